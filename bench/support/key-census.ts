import type { Redis } from 'ioredis';

/**
 * Memory by kind of key under a prefix: keys are grouped by shape (a run's
 * hash tag and BullMQ's job ids replaced by placeholders) and each group's
 * size is estimated from MEMORY USAGE of a sample. It reads the layout
 * from Redis itself, so it stays right while the engine's key layout changes.
 */
export interface KeyGroup {
  shape: string;
  keys: number;
  bytes: number;
  /** One key of this shape, to show what such a key holds. */
  example: string;
}

const SAMPLE = 200;

export function keyShape(key: string, prefix: string, queue: string): string {
  return key
    // A run's hash tag, not a tag made of the prefix (the wakes set's, or a queue partition's).
    .replace(new RegExp(`\\{(?!${escape(prefix)}[:}])[^}]*\\}`), '{runId}')
    .replace(new RegExp(`^(${escape(prefix)}:${escape(queue)}:)(?!(?:wait|active|delayed|prioritized|paused|completed|failed|events|meta|id|marker|stalled|stalled-check|pc|limiter|repeat|de)$)[^:]+$`), '$1<jobId>');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function keyCensus(observer: Redis, prefix: string, queue: string): Promise<KeyGroup[]> {
  const groups = new Map<string, string[]>();
  const counts = new Map<string, number>();
  // Also keys whose hash tag starts with the prefix: the timer pump's wakes set shares the timers key's slot that way.
  for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await observer.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const shape = keyShape(key, prefix, queue);
        counts.set(shape, (counts.get(shape) ?? 0) + 1);
        const sample = groups.get(shape) ?? [];
        if (sample.length < SAMPLE) sample.push(key);
        groups.set(shape, sample);
      }
    } while (cursor !== '0');
  }
  const result: KeyGroup[] = [];
  for (const [shape, sample] of groups) {
    const pipeline = observer.pipeline();
    for (const key of sample) pipeline.call('MEMORY', 'USAGE', key, 'SAMPLES', '0');
    const sizes = ((await pipeline.exec()) ?? []).map(([, size]) => Number(size ?? 0));
    const average = sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length);
    result.push({ shape, keys: counts.get(shape)!, bytes: average * counts.get(shape)!, example: sample[0] });
  }
  return result.sort((a, b) => b.bytes - a.bytes);
}
