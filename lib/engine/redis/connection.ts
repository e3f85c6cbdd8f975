import { Redis, RedisOptions } from 'ioredis';
import { RedisUnavailableError } from '../errors';

/** Where Redis is: a URL, ioredis options, or an ioredis instance you own. @public */
export type RedisConnection = string | RedisOptions | Redis;

/**
 * Makes a new client for one role. Given an instance, we duplicate it so our
 * settings (offline queue, retries) never change the caller's own client.
 */
export function createClient(connection: RedisConnection | undefined, overrides: RedisOptions): Redis {
  if (connection instanceof Redis) return connection.duplicate(overrides);
  if (typeof connection === 'string') return new Redis(connection, overrides);
  return new Redis({ ...(connection ?? {}), ...overrides });
}

/** Where the connection points, for error messages (no password). */
export function describeConnection(connection: RedisConnection | undefined): string {
  if (connection instanceof Redis) return `${connection.options.host}:${connection.options.port}`;
  if (typeof connection === 'string') return connection.replace(/\/\/[^@/]*@/, '//***@');
  return `${connection?.host ?? '127.0.0.1'}:${connection?.port ?? 6379}`;
}

/** Connects a lazy client, turning a refused connection into a message that says what to do. */
export async function connectOrExplain(client: Redis, where: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (err) {
    client.disconnect();
    throw new RedisUnavailableError(`cannot connect to ${where} (${(err as Error).message})`);
  } finally {
    clearTimeout(timer);
  }
}
