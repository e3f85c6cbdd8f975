import { Redis } from 'ioredis';
import { InvalidRunIdError, UnknownFlowError, type FlowContext, type GoTickEngine } from '../../lib/engine';
import { RedisRunStore } from '../../lib/engine/redis/run-store';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

type Internals = { node: { runEnds: { unsubscribe(): Promise<void> } } };
const internals = (engine: GoTickEngine) => engine as unknown as Internals;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('one-round-trip triggers, triggerMany and woken waits', () => {
  const env = useEngines();
  const bodies = new Map<string, number>();
  const warnings: string[] = [];
  const counted = {
    id: 'perf/counted',
    handler: async (ctx: FlowContext<{ n?: number } | undefined>) => {
      // Counts the flow bodies that got past their first step: a run must do so exactly once.
      await ctx.memo('count', () => void bodies.set(ctx.runId, (bodies.get(ctx.runId) ?? 0) + 1));
      return ctx.input?.n ?? null;
    },
  };
  const slow = {
    id: 'perf/slow',
    handler: async (ctx: FlowContext<{ ms: number }>) => ctx.memo('work', () => pause(ctx.input.ms).then(() => 'done')),
  };
  const logger = { log: () => undefined, warn: (message: string) => void warnings.push(message), error: () => undefined };

  beforeEach(() => {
    bodies.clear();
    warnings.length = 0;
  });

  it('300 runIds each triggered 3 times at once: one created per id, each run executed once, no job ever ahead of its run', async () => {
    const engine = await env.harness.start([counted], { worker: { concurrency: 50 }, logger });
    const ids = Array.from({ length: 300 }, (_, i) => `race-${i}`);
    const results = await Promise.all(ids.flatMap((runId) => [0, 1, 2].map(() => engine.trigger('perf/counted', { n: 1 }, { runId }))));
    for (const runId of ids) expect(results.filter((r) => r.runId === runId && r.created)).toHaveLength(1);
    const runs = await Promise.all(ids.map((runId) => engine.waitForRun(runId, { timeout: '30s' })));
    expect(runs.filter((run) => run.status !== 'completed')).toEqual([]);
    expect([...bodies.values()].filter((n) => n !== 1)).toEqual([]);
    expect(bodies.size).toBe(300);
    // A job taken before its run record existed would be dropped with this warning.
    expect(warnings.filter((w) => w.includes('no such run'))).toEqual([]);
  });

  /** Writes a run record without its job, as a trigger that died half-way would have. */
  const halfWritten = (prefix: string, runId: string) => {
    const now = Date.now();
    return new RedisRunStore(env.redis.client, prefix, 0).create({ runId, flowId: 'perf/counted', createdAt: now, dueAt: now });
  };

  it('a retried trigger of a run written without its job enqueues it (long before the reconciler would)', async () => {
    const prefix = `half${process.pid}a`;
    const engine = await env.harness.start([counted], { prefix });
    expect(await halfWritten(prefix, 'half-1')).toBe(true);
    const began = Date.now();
    expect(await engine.trigger('perf/counted', undefined, { runId: 'half-1' })).toEqual({ runId: 'half-1', created: false });
    expect((await engine.waitForRun('half-1', { timeout: '10s' })).status).toBe('completed');
    // The reconciler only steps in 5 s past the due time: this was the retried trigger.
    expect(Date.now() - began).toBeLessThan(4000);
    // And a trigger of a finished run changes nothing.
    expect(await engine.trigger('perf/counted', undefined, { runId: 'half-1' })).toEqual({ runId: 'half-1', created: false });
    await pause(300);
    expect(bodies.get('half-1')).toBe(1);
    expect((await engine.getRun('half-1'))!.executions).toBe(1);
  });

  it('repeated triggers of a running or sleeping run add only spare jobs, which never execute it again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const engine = await env.harness.start(
      [
        {
          id: 'perf/gated',
          handler: async (ctx: FlowContext) => {
            await ctx.memo('gate', () => gate);
            await ctx.sleep('nap', '1500ms');
            return 'ok';
          },
        },
      ],
      { worker: { concurrency: 20 }, logger },
    );
    expect((await engine.trigger('perf/gated', undefined, { runId: 'gated' })).created).toBe(true);
    await waitUntil(async () => (await engine.getRun('gated'))?.status === 'running', 'the run to start');
    // The trigger's own job is running, so these dedupe; after it is gone, the next ones are spares.
    for (let i = 0; i < 20; i++) expect((await engine.trigger('perf/gated', undefined, { runId: 'gated' })).created).toBe(false);
    release();
    await waitUntil(async () => (await engine.getRun('gated'))?.status === 'sleeping', 'the run to sleep');
    const spares = await Promise.all(Array.from({ length: 50 }, () => engine.trigger('perf/gated', undefined, { runId: 'gated' })));
    expect(spares.every((r) => !r.created)).toBe(true);
    await pause(300);
    // A spare job that claimed the sleeping run would have woken it (status running, executions 2).
    const asleep = await engine.getRun('gated');
    expect([asleep!.status, asleep!.executions]).toEqual(['sleeping', 1]);
    const done = await engine.waitForRun('gated', { timeout: '10s' });
    expect([done.status, done.executions]).toEqual(['completed', 2]);
  });

  it('waitForRun is woken by the end of the run: 10 runs of 300 ms are each seen within 150 ms of their end', async () => {
    const engine = await env.harness.start([slow], { worker: { concurrency: 10 } });
    const lags = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const { runId } = await engine.trigger('perf/slow', { ms: 300 + i * 7 });
        const run = await engine.waitForRun(runId, { timeout: '10s' });
        return Date.now() - Date.parse(run.finishedAt!);
      }),
    );
    // The slow fallback poll reads at about 0, 250, 750 ms: only the pub/sub wake-up is this quick for all ten.
    expect(Math.max(...lags)).toBeLessThan(150);
  });

  it('a waiter on a sleeping run is woken by its cancel (the parked-cancel script announces the end too)', async () => {
    const engine = await env.harness.start([
      {
        id: 'perf/napper',
        handler: async (ctx: FlowContext) => {
          await ctx.sleep('nap', '1h');
        },
      },
    ]);
    const lags = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const { runId } = await engine.trigger('perf/napper');
        await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the run to sleep');
        const waiting = engine.waitForRun(runId, { timeout: '10s' });
        // Past the waiter's first read, so only a wake-up (or the 750 ms read) can see the end.
        await pause(400 + i * 10);
        const cancelledAt = Date.now();
        await engine.cancel(runId);
        expect((await waiting).status).toBe('cancelled');
        return Date.now() - cancelledAt;
      }),
    );
    expect(Math.max(...lags)).toBeLessThan(150);
  });

  it('a waiter whose wake-up message is lost still resolves through the slow poll, and its deadline stays exact', async () => {
    const engine = await env.harness.start([slow]);
    // Subscribe (the first waiter opens the shared subscriber), then drop the subscription.
    const first = await engine.trigger('perf/slow', { ms: 10 });
    await engine.waitForRun(first, { timeout: '5s' });
    const { runId } = await engine.trigger('perf/slow', { ms: 400 });
    const waiting = engine.waitForRun(runId, { timeout: '10s' });
    await pause(50);
    await internals(engine).node.runEnds.unsubscribe();
    const probe = new Redis(env.redis.url);
    try {
      const prefix = (engine as unknown as { settings: { prefix: string } }).settings.prefix;
      expect(await probe.pubsub('NUMSUB', `${prefix}:ends`)).toEqual([`${prefix}:ends`, 0]);
    } finally {
      probe.disconnect();
    }
    expect((await waiting).status).toBe('completed');

    const long = await engine.trigger('perf/slow', { ms: 1500 });
    const began = Date.now();
    await expect(engine.waitForRun(long, { timeout: 600 })).rejects.toThrow(/did not finish|600/);
    expect(Date.now() - began).toBeGreaterThanOrEqual(590);
    expect(Date.now() - began).toBeLessThan(1500);
  });

  it('triggerMany: 2,500 runs in order, idempotent per runId (a repeat creates nothing, a repeated id in one call is created once)', async () => {
    const engine = await env.harness.start([counted], { worker: { concurrency: 50 } });
    const items = Array.from({ length: 2500 }, (_, i) => ({ input: { n: i }, runId: `bulk-${i}` }));
    const first = await engine.triggerMany('perf/counted', items);
    expect(first.map((r) => r.runId)).toEqual(items.map((i) => i.runId));
    expect(first.every((r) => r.created)).toBe(true);
    const again = await engine.triggerMany('perf/counted', [...items.slice(0, 10), { input: { n: -1 }, runId: 'bulk-new' }, { runId: 'bulk-new' }]);
    expect(again.map((r) => r.created)).toEqual([...Array(10).fill(false), true, false]);
    await waitUntil(async () => bodies.size === 2501, 'every bulk run to execute', 60_000);
    const outputs = await Promise.all(['bulk-0', 'bulk-2499', 'bulk-new'].map((id) => engine.waitForRun(id, { timeout: '30s' })));
    expect(outputs.map((r) => r.output)).toEqual([0, 2499, -1]);
    await pause(300);
    expect([...bodies.values()].filter((n) => n !== 1)).toEqual([]);
  });

  it('triggerMany heals a run written without its job, applies shared and per-item options, and checks every item before writing', async () => {
    const prefix = `half${process.pid}b`;
    const engine = await env.harness.start([counted], { prefix });
    await halfWritten(prefix, 'half-2');
    const [healed, delayed, own] = await engine.triggerMany(
      'perf/counted',
      [{ runId: 'half-2', delay: 0 }, { runId: 'late-1' }, { runId: 'soon-1', delay: 0 }],
      { delay: '1h' },
    );
    expect([healed.created, delayed.created, own.created]).toEqual([false, true, true]);
    expect((await engine.waitForRun('half-2', { timeout: '4s' })).status).toBe('completed');
    expect((await engine.waitForRun('soon-1', { timeout: '4s' })).status).toBe('completed');
    expect((await engine.getRun('late-1'))!.status).toBe('queued');

    await expect(engine.triggerMany('perf/counted', [{ runId: 'ok-1' }, { runId: 'ok-2' }, { runId: 'bad id' }])).rejects.toThrow(InvalidRunIdError);
    await expect(engine.triggerMany('perf/counted', [{ runId: 'ok-1' }, { runId: 'bad id' }])).rejects.toThrow(/item 1/);
    expect(await engine.getRun('ok-1')).toBeNull();
    await expect(engine.triggerMany('perf/nope', [{}])).rejects.toThrow(UnknownFlowError);
    await expect(engine.triggerMany('perf/counted', [{ n: 1 } as never, 5 as never])).rejects.toThrow(/item 1 must be an object/);
  });
});
