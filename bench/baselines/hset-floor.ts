import type { Redis } from 'ioredis';

/**
 * The floor: the least a durable step can cost is one awaited write of its
 * result. One HSET per step, each awaited before the next, of a value the
 * size of a GoTick step record.
 */
export async function hsetSteps(client: Redis, key: string, steps: number): Promise<void> {
  for (let i = 0; i < steps; i++) {
    const record = JSON.stringify({ kind: 'memo', status: 'completed', attempts: 1, seq: i, result: String(i), finishedAt: Date.now() });
    await client.hset(key, `s${i}`, record);
  }
}
