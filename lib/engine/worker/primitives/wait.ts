import type { Future } from '../../../common/flow-context';

/** What ctx.wait resolves to: each future's value, in order. */
export type WaitResults<T extends readonly Future<unknown>[]> = { [K in keyof T]: T[K] extends Future<infer V> ? V : never };

/** True for a ctx.wait concurrency the engine accepts: absent, or a positive integer. */
export function isValidConcurrency(concurrency: unknown): boolean {
  return concurrency === undefined || (Number.isInteger(concurrency) && (concurrency as number) >= 1);
}

/**
 * Runs futures at most `limit` at a time, in lanes: each lane takes the next
 * future when its current one ends. After a failure no new future starts, but
 * the ones running finish (and are recorded); then the first failure is thrown.
 * `waitGroup` is recorded with each future's step, so views can show them side by side.
 */
export async function runInLanes<T extends readonly Future<unknown>[]>(futures: T, limit: number, waitGroup?: number): Promise<WaitResults<T>> {
  const results: unknown[] = new Array(futures.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < futures.length) {
      const index = next++;
      try {
        results[index] = await futures[index].start(waitGroup);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, futures.length) }, lane));
  if (failure) throw failure.error;
  return results as WaitResults<T>;
}
