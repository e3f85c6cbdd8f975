import { Redis } from 'ioredis';
import { RunNotFoundError, RunNotRetriableError, type FlowContext } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

describe('retry of failed runs on a real Redis', () => {
  const env = useEngines();
  let redis: Redis;
  beforeEach(() => {
    redis = new Redis(env.redis.url);
  });
  afterEach(() => redis.disconnect());

  const prefixOf = (engine: object) => (engine as { settings: { prefix: string } }).settings.prefix;

  /** a (task) -> b (memo, throws while `broken`) -> c (task); every body counts its calls, b its attempts. */
  function fragileFlow(state: { broken: boolean; calls: Record<string, number>; attemptsOfB: number[] }) {
    const count = (key: string) => (state.calls[key] = (state.calls[key] ?? 0) + 1);
    return {
      id: 'fragile',
      handler: async (ctx: FlowContext) => {
        await ctx.task('a', () => void count('a'));
        const b = await ctx.memo(
          'b',
          (task) => {
            count('b');
            state.attemptsOfB.push(task.attempt);
            if (state.broken) throw new Error('upstream is down');
            return 'b-ok';
          },
          { retries: 1, backoff: 0 },
        );
        await ctx.task('c', () => void count('c'));
        return b;
      },
    };
  }

  it('runs the failed step again with fresh attempts and never the completed ones; the view keeps the earlier error', async () => {
    const state = { broken: true, calls: {} as Record<string, number>, attemptsOfB: [] as number[] };
    const engine = await env.harness.start([fragileFlow(state)]);
    const { runId } = await engine.trigger('fragile');
    const failed = await engine.waitForRun(runId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual(expect.objectContaining({ name: 'StepFailedError', stepKey: 'b' }));
    expect(state.attemptsOfB).toEqual([1, 2]);
    const runKey = `${prefixOf(engine)}:run:{${runId}}`;
    expect(await redis.pttl(runKey)).toBeGreaterThan(0);

    state.broken = false;
    state.attemptsOfB = [];
    expect(await engine.retry(runId)).toEqual({ runId, status: 'queued' });
    // Off the retention clock while it is live again.
    expect(await redis.pttl(runKey)).toBe(-1);
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('completed');
    expect(run.output).toBe('b-ok');
    expect(run.error).toBeUndefined();
    expect(run.finishedAt).toBeDefined();
    expect(state.calls).toEqual({ a: 1, b: 3, c: 1 });
    expect(state.attemptsOfB).toEqual([1]);
    expect(run.steps.map((s) => [s.key, s.status, s.attempts])).toEqual([
      ['a', 'completed', 1],
      ['b', 'completed', 1],
      ['c', 'completed', 1],
    ]);
    expect(run.retries).toBe(1);
    expect(run.previousErrors).toEqual([
      { name: 'StepFailedError', message: expect.stringContaining('upstream is down'), stepKey: 'b', failedAt: failed.finishedAt },
    ]);
    // Finished again: the retention clock runs again.
    expect(await redis.pttl(runKey)).toBeGreaterThan(0);
  });

  it('refuses runs that are not failed or cancelled (409-style RunNotRetriableError), and unknown runs', async () => {
    const engine = await env.harness.start([
      { id: 'ok', handler: async () => 'done' },
      { id: 'waits', handler: async (ctx: FlowContext) => ctx.sleep('long', '1h') },
    ]);
    const done = await engine.waitForRun((await engine.trigger('ok')).runId);
    await expect(engine.retry(done.runId)).rejects.toThrow(RunNotRetriableError);
    await expect(engine.retry(done.runId)).rejects.toThrow(/is completed; only a failed or cancelled run can be retried/);
    const { runId } = await engine.trigger('waits');
    await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the sleep');
    await expect(engine.retry(runId)).rejects.toThrow(RunNotRetriableError);
    await expect(engine.retry('no-such-run')).rejects.toThrow(RunNotFoundError);
    expect((await engine.getRun(done.runId))!.retries).toBeUndefined();
  });

  it('two retries at once, 100 times: exactly one queues the run, the other is refused, and the run ends once', async () => {
    const state = { broken: true, calls: {} as Record<string, number>, attemptsOfB: [] as number[] };
    const engine = await env.harness.start([fragileFlow(state)], { worker: { concurrency: 20 } });
    const runIds = await Promise.all(Array.from({ length: 100 }, async (_, i) => (await engine.trigger('fragile', undefined, { runId: `twice-${i}` })).runId));
    for (const runId of runIds) expect((await engine.waitForRun(runId)).status).toBe('failed');
    state.broken = false;
    let queued = 0;
    let refused = 0;
    for (const runId of runIds) {
      const outcomes = await Promise.allSettled([engine.retry(runId), engine.retry(runId)]);
      queued += outcomes.filter((o) => o.status === 'fulfilled').length;
      refused += outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof RunNotRetriableError).length;
    }
    expect({ queued, refused }).toEqual({ queued: 100, refused: 100 });
    for (const runId of runIds) {
      const run = await engine.waitForRun(runId);
      expect(run.status).toBe('completed');
      expect(run.retries).toBe(1);
    }
    // a ran once per run (before the failure), c once per run (after the retry).
    expect(state.calls.a).toBe(100);
    expect(state.calls.c).toBe(100);
  });

  it('retries a cancelled run', async () => {
    // The cancel API is built on another branch: the run is cancelled here by
    // writing the fields a cancel of a queued run leaves (status, error, finishedAt).
    const calls: string[] = [];
    const engine = await env.harness.start([
      {
        id: 'later',
        handler: async (ctx: FlowContext) => {
          await ctx.task('work', () => void calls.push(ctx.runId));
          return 'worked';
        },
      },
    ]);
    const { runId } = await engine.trigger('later', undefined, { delay: '1h' });
    const runKey = `${prefixOf(engine)}:run:{${runId}}`;
    const cancelledAt = Date.now();
    await redis.hset(runKey, 'status', 'cancelled', 'finishedAt', cancelledAt, 'cancelRequested', '1',
      'error', JSON.stringify({ name: 'RunCancelledError', message: 'customer asked' }));
    expect(await engine.retry(runId)).toEqual({ runId, status: 'queued' });
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('completed');
    expect(run.output).toBe('worked');
    expect(calls).toEqual([runId]);
    expect(await redis.hexists(runKey, 'cancelRequested')).toBe(0);
    expect(run.previousErrors).toEqual([{ name: 'RunCancelledError', message: 'customer asked', failedAt: new Date(cancelledAt).toISOString() }]);
  });

  it('runs every failed future of a ctx.wait again, so one retry is enough after a fan-out failed side by side', async () => {
    const state = { broken: true, calls: {} as Record<string, number> };
    const engine = await env.harness.start([
      {
        id: 'fan-out',
        handler: async (ctx: FlowContext) => {
          const futures = ['x', 'y', 'z'].map((part) =>
            ctx.async(part, () => {
              state.calls[part] = (state.calls[part] ?? 0) + 1;
              if (state.broken && part !== 'z') throw new Error(`${part}: upstream is down`);
              return part.toUpperCase();
            }, { retries: 0 }),
          );
          return (await ctx.wait(futures)).join('');
        },
      },
    ]);
    const { runId } = await engine.trigger('fan-out');
    const failed = await engine.waitForRun(runId);
    expect(failed.status).toBe('failed');
    expect(failed.steps.map((s) => [s.key, s.status])).toEqual([
      ['x', 'failed'],
      ['y', 'failed'],
      ['z', 'completed'],
    ]);
    state.broken = false;
    await engine.retry(runId);
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('completed');
    expect(run.output).toBe('XYZ');
    expect(state.calls).toEqual({ x: 2, y: 2, z: 1 });
  });
});
