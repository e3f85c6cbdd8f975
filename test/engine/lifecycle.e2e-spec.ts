import type { FlowContext } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

describe('shutdown, retention and isolation', () => {
  const env = useEngines();

  it('lets a step in flight finish when the engine closes in time', async () => {
    const done: string[] = [];
    let started!: () => void;
    const stepStarted = new Promise<void>((resolve) => (started = resolve));
    const engine = await env.harness.start([
      {
        id: 'slow-step',
        handler: async (ctx: FlowContext) => {
          await ctx.task('slow', async () => {
            started();
            await new Promise((resolve) => setTimeout(resolve, 300));
            done.push('slow');
          });
          return 'finished';
        },
      },
    ], { shutdownTimeout: '10s', prefix: 'graceful-1' });
    const { runId } = await engine.trigger('slow-step');
    await stepStarted;
    await engine.close();
    expect(done).toEqual(['slow']);
    const reader = await env.harness.start([{ id: 'slow-step', handler: async () => 'never runs' }], { prefix: 'graceful-1', worker: false });
    expect((await reader.getRun(runId))!.status).toBe('completed');
  });

  it('hands a run back past the shutdown timeout, so another node resumes it at once, not after the lease', async () => {
    const prefix = 'graceful-2';
    const runsOf: string[] = [];
    let started!: () => void;
    const stepStarted = new Promise<void>((resolve) => (started = resolve));
    const stuck = await env.harness.start([
      {
        id: 'stuck',
        handler: async (ctx: FlowContext) => {
          await ctx.task('hang', async () => {
            runsOf.push('first-node');
            started();
            await new Promise((resolve) => setTimeout(resolve, 60_000).unref());
          });
        },
      },
    ], { prefix, shutdownTimeout: 200, worker: { lease: '60s' } });
    const { runId } = await stuck.trigger('stuck');
    await stepStarted;
    await stuck.close();
    const released = await env.redis.client.hgetall(`${prefix}:run:{${runId}}`);
    expect(released.status).toBe('queued');
    expect(released.lease).toBeUndefined();

    // The lease was 60 s: finishing within waitForRun's 10 s proves the run was handed over, not timed out.
    const next = await env.harness.start([
      { id: 'stuck', handler: async (ctx: FlowContext) => ctx.task('hang', () => void runsOf.push('second-node')) },
    ], { prefix, worker: { lease: '60s' } });
    const run = await next.waitForRun(runId, { timeout: '10s' });
    expect(run.status).toBe('completed');
    expect(runsOf).toEqual(['first-node', 'second-node']);
  });

  it('expires finished runs and their index entries after the retention', async () => {
    const prefix = 'retention';
    // The BullMQ queues (runs, and the schedules queue every worker node listens on) keep keys of their own.
    const keysOf = async () => (await env.redis.client.keys(`${prefix}:*`)).filter((key) => !key.startsWith(`${prefix}:runs:`) && !key.startsWith(`${prefix}:schedules:`));
    const engine = await env.harness.start([{ id: 'tiny', handler: async (ctx: FlowContext<number>) => ctx.memo('double', () => ctx.input * 2) }], {
      prefix,
      retention: '1s',
      // A reconciler look that read a run as running (its lease live) moves the run's timer to the lease's
      // end; if the run finishes meanwhile, that entry is dropped at the next look after it is due. With a
      // backlog of 10,000 runs that happens, so the lease bounds how long the last key can outlive its run.
      worker: { concurrency: 50, lease: '5s' },
    });
    const ids: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const triggered = await Promise.all(Array.from({ length: 500 }, (_, i) => engine.trigger('tiny', batch * 500 + i)));
      ids.push(...triggered.map((t) => t.runId));
    }
    await engine.waitForRun(ids[ids.length - 1], { timeout: '60s' });
    // Every run record, step hash and index entry (sorted sets vanish once empty) must be gone.
    let left: string[] = [];
    await waitUntil(async () => (left = await keysOf()).length === 0, 'our keys to expire', 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; ${left.length} left, e.g. ${left.slice(0, 5).join(', ')}`);
    });
    expect((await engine.listRuns()).runs).toEqual([]);
  });

  it('keeps apps with different prefixes apart on one Redis', async () => {
    const flow = { id: 'shared/id', handler: async (ctx: FlowContext) => ctx.runId };
    const a = await env.harness.start([flow], { prefix: 'app-a' });
    const b = await env.harness.start([flow], { prefix: 'app-b' });
    const { runId } = await a.trigger('shared/id', undefined, { runId: 'same-id' });
    await a.waitForRun(runId);
    expect(await b.getRun('same-id')).toBeNull();
    expect((await b.listRuns()).runs).toEqual([]);
    expect((await b.trigger('shared/id', undefined, { runId: 'same-id' })).created).toBe(true);
    expect((await b.waitForRun('same-id')).status).toBe('completed');
  });
});
