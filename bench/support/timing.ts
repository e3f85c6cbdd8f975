import { performance } from 'node:perf_hooks';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Wall-clock time with sub-millisecond resolution. Wake times are wall-clock
 * (Date.now based, as BullMQ and the engine store them); this lets lateness
 * be measured against them without Date.now's 1 ms rounding.
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

export function monoNow(): number {
  return performance.now();
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, pollMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** Calls fn(0..count-1) with at most `limit` calls in flight: how a busy producer feeds a queue. */
export async function pool(limit: number, count: number, fn: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, lane));
}

/** Resolves once `expected` arrivals were counted, or rejects after the timeout. */
export class CountDown {
  count = 0;
  private resolve!: () => void;
  private readonly done: Promise<void>;

  constructor(private readonly expected: number) {
    this.done = new Promise((resolve) => (this.resolve = resolve));
    if (expected <= 0) this.resolve();
  }

  arrive(times = 1): void {
    this.count += times;
    if (this.count >= this.expected) this.resolve();
  }

  async wait(what: string, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.done,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${this.count}/${this.expected})`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** One promise per id, settled from elsewhere (a flow step, a hook, a job processor). */
export class Signals<T> {
  private readonly waiting = new Map<string, { resolve: (value: T) => void; promise: Promise<T> }>();

  private entry(id: string) {
    let found = this.waiting.get(id);
    if (!found) {
      let resolve!: (value: T) => void;
      const promise = new Promise<T>((r) => (resolve = r));
      found = { resolve, promise };
      this.waiting.set(id, found);
    }
    return found;
  }

  fire(id: string, value: T): void {
    this.entry(id).resolve(value);
  }

  async wait(id: string, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.entry(id).promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs} ms waiting for "${id}"`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.waiting.delete(id);
    }
  }
}
