import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import { RedisOutOfMemoryError, RedisUnavailableError } from '../../common/errors';

/** A Redis Cluster: its startup nodes and, optionally, ioredis Cluster options. @public */
export interface ClusterConnection {
  cluster: ClusterNode[];
  options?: ClusterOptions;
}

/**
 * Where Redis is: a URL, ioredis options, an ioredis instance you own, or a
 * Redis Cluster (`{ cluster: [{ host, port }, ...] }` or an ioredis Cluster).
 * @public
 */
export type RedisConnection = string | RedisOptions | Redis | ClusterConnection | Cluster;

/** One client, single node or cluster: the engine only uses commands both have. */
export type RedisClient = Redis | Cluster;

export function isCluster(connection: RedisConnection | undefined): boolean {
  return connection instanceof Cluster || (typeof connection === 'object' && connection !== null && 'cluster' in connection);
}

/**
 * Makes a new client for one role. Given an instance, we duplicate it so our
 * settings (offline queue, retries) never change the caller's own client.
 */
export function createClient(connection: RedisConnection | undefined, overrides: RedisOptions): RedisClient {
  if (connection instanceof Redis) return connection.duplicate(overrides);
  if (connection instanceof Cluster) {
    return connection.duplicate(undefined, {
      lazyConnect: overrides.lazyConnect,
      // Auto-pipelining is a Cluster-wide option, not a node one.
      enableAutoPipelining: overrides.enableAutoPipelining ?? connection.options.enableAutoPipelining,
      redisOptions: { ...connection.options.redisOptions, ...overrides },
    });
  }
  if (typeof connection === 'string') return new Redis(connection, overrides);
  if (connection && 'cluster' in connection) {
    const { lazyConnect, ...redisOptions } = overrides;
    return new Cluster(connection.cluster, {
      ...connection.options,
      lazyConnect,
      // Offline queueing is a per-node setting in a cluster client, and so are retries.
      enableOfflineQueue: redisOptions.enableOfflineQueue ?? connection.options?.enableOfflineQueue,
      enableAutoPipelining: redisOptions.enableAutoPipelining ?? connection.options?.enableAutoPipelining,
      redisOptions: { ...connection.options?.redisOptions, ...redisOptions },
    });
  }
  return new Redis({ ...(connection ?? {}), ...overrides });
}

/** Where the connection points, for error messages (no password). */
export function describeConnection(connection: RedisConnection | undefined): string {
  if (connection instanceof Redis) return `${connection.options.host}:${connection.options.port}`;
  if (connection instanceof Cluster) return 'a Redis Cluster';
  if (typeof connection === 'string') return connection.replace(/\/\/[^@/]*@/, '//***@');
  if (connection && 'cluster' in connection) {
    return `Redis Cluster ${connection.cluster.map((node) => (typeof node === 'object' ? `${node.host}:${node.port}` : String(node))).join(',')}`;
  }
  return `${connection?.host ?? '127.0.0.1'}:${connection?.port ?? 6379}`;
}

// ioredis' and BullMQ's wording for "Redis did not answer"; "Command timed out" is the commandTimeout option firing.
const UNAVAILABLE = /enableOfflineQueue|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|max retries|Stream isn't writeable|CLUSTERDOWN|Command timed out/i;

/** True for an error that says Redis could not be reached or did not answer in time (not that it refused a command). */
export function isConnectionError(err: unknown): boolean {
  return UNAVAILABLE.test((err as Error)?.message ?? String(err));
}

/** Redis at maxmemory with noeviction refuses writes: a 503 like an outage, with its own name and fix. */
const OUT_OF_MEMORY = /^OOM /;

/**
 * Rethrows a connection error as RedisUnavailableError and a refused write at maxmemory as
 * RedisOutOfMemoryError (the original kept as cause); anything else as it is. Shared by the store and the queue.
 */
export function explainUnavailable(err: unknown): never {
  const message = (err as Error)?.message ?? String(err);
  if (OUT_OF_MEMORY.test(message)) throw Object.assign(new RedisOutOfMemoryError(message), { cause: err });
  if (isConnectionError(err)) throw Object.assign(new RedisUnavailableError(message), { cause: err });
  throw err;
}

function readyOrFailed(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ready = () => {
      client.off('error', failed);
      resolve();
    };
    const failed = (err: Error) => {
      client.off('ready', ready);
      reject(err);
    };
    client.once('ready', ready);
    client.once('error', failed);
  });
}

/** Connects a lazy client, turning a refused connection into a message that says what to do. */
export async function connectOrExplain(client: RedisClient, where: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      // A client someone else already began to connect (BullMQ, for a queue made on it before start) is waited for.
      client.status === 'wait' ? client.connect() : readyOrFailed(client),
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
