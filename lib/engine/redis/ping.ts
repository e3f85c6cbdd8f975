import type { RedisClient } from './connection';

/**
 * Milliseconds one PING took, or a rejection saying why Redis did not answer
 * (refused, closed, or silent for `timeoutMs`). A health probe must answer on
 * time even when Redis is frozen, so it does not wait for commandTimeout.
 */
export async function pingLatency(client: RedisClient, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to PING within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return performance.now() - started;
}
