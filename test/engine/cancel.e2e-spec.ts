import { RunCancelledError, RunFinishedError, RunNotFoundError, type FlowContext, type FlowDefinition, type FlowHookContext } from '../../lib/engine';
import {
  WORKER_FLOWS,
  abortedKey,
  cancelHooksKey,
  startWorkerProcess,
  takeEvents,
  useWorkerProcesses,
} from '../support/child-worker';
import { useEngines } from '../support/engine-harness';
import { useCluster } from '../support/redis-cluster';
import { waitUntil } from '../support/wait-until';

/** A flow whose steps count their runs per run id, and whose OnFlowCancel hook records each call. */
function countingFlow(id: string, body: (ctx: FlowContext<{ napMs?: number }>, count: (key: string) => void) => Promise<unknown>) {
  const runs = new Map<string, number>();
  const cancels: Array<{ runId: string; input: unknown; reason?: string }> = [];
  const count = (runId: string, key: string) => runs.set(`${runId}/${key}`, (runs.get(`${runId}/${key}`) ?? 0) + 1);
  const flow: FlowDefinition = {
    id,
    handler: (ctx) => body(ctx as FlowContext<{ napMs?: number }>, (key) => void count(ctx.runId, key)),
    hooks: { onCancel: [(ctx: FlowHookContext, { reason }) => void cancels.push({ runId: ctx.runId, input: ctx.input, reason })] },
  };
  return { flow, ran: (runId: string, key: string) => runs.get(`${runId}/${key}`) ?? 0, cancels };
}

describe('cancel, in one process', () => {
  const env = useEngines();

  it('a queued (delayed) run is cancelled at once and never runs; OnFlowCancel once, with the reason', async () => {
    const { flow, ran, cancels } = countingFlow('cancel/queued', async (ctx, count) => {
      await ctx.task('only', () => count('only'));
    });
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('cancel/queued', { order: 7 }, { delay: '400ms' });

    expect(await engine.cancel(runId, { reason: 'customer asked' })).toEqual({ runId, status: 'cancelled' });
    const run = (await engine.getRun(runId))!;
    expect(run.status).toBe('cancelled');
    expect(run.error).toEqual({ name: 'RunCancelledError', message: 'customer asked' });
    expect(run.finishedAt).toBeDefined();

    // A run triggered after it with the same delay has its job due later: once that one completed, the
    // cancelled run's own job has come and gone.
    const control = await engine.trigger('cancel/queued', {}, { delay: '400ms' });
    expect((await engine.waitForRun(control.runId, { timeout: '10s' })).status).toBe('completed');
    expect(ran(runId, 'only')).toBe(0);
    expect(await engine.getRun(runId)).toEqual(run);
    expect(cancels).toEqual([{ runId, input: { order: 7 }, reason: 'customer asked' }]);
  });

  it('a sleeping run is cancelled at once and never wakes (checked past its wake time)', async () => {
    const { flow, ran, cancels } = countingFlow('cancel/sleeping', async (ctx, count) => {
      await ctx.task('before', () => count('before'));
      await ctx.sleep('nap', ctx.input.napMs!);
      await ctx.task('after', () => count('after'));
    });
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('cancel/sleeping', { napMs: 500 });
    await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the run to sleep');
    const control = await engine.trigger('cancel/sleeping', { napMs: 500 });

    expect(await engine.cancel(runId)).toEqual({ runId, status: 'cancelled' });
    const run = (await engine.getRun(runId))!;
    expect(run.status).toBe('cancelled');
    expect(run.error).toEqual({ name: 'RunCancelledError', message: `Run "${runId}" was cancelled.` });
    expect(run.wakeAt).toBeUndefined();

    // The control run slept as long and woke later: the cancelled run's resume job has fired by then.
    expect((await engine.waitForRun(control.runId, { timeout: '10s' })).status).toBe('completed');
    expect(ran(control.runId, 'after')).toBe(1);
    expect(ran(runId, 'before')).toBe(1);
    expect(ran(runId, 'after')).toBe(0);
    expect(await engine.getRun(runId)).toEqual(run);
    expect(cancels).toEqual([{ runId, input: { napMs: 500 }, reason: undefined }]);
  });

  it('a run waiting for a signal is cancelled at once; a signal sent afterwards is refused, not consumed', async () => {
    const { flow, cancels } = countingFlow('cancel/waiting', async (ctx) => {
      await ctx.waitForSignal('paid', 'payment');
    });
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('cancel/waiting', {});
    await waitUntil(async () => (await engine.getRun(runId))?.steps.some((s) => s.status === 'waiting'), 'the run to wait for its signal');
    expect(await engine.cancel(runId, { reason: 'order closed' })).toEqual({ runId, status: 'cancelled' });
    await expect(engine.signal(runId, 'payment', { amount: 1 })).rejects.toThrow(RunFinishedError);
    const run = (await engine.getRun(runId))!;
    expect(run.status).toBe('cancelled');
    expect(run.steps.map((s) => [s.key, s.status])).toEqual([['paid', 'waiting']]);
    expect(cancels.map((c) => c.reason)).toEqual(['order closed']);
  });

  it('a cancelled run can be retried: it runs on from where it stopped, the done step not again', async () => {
    const { flow, ran, cancels } = countingFlow('cancel/retried', async (ctx, count) => {
      await ctx.task('before', () => count('before'));
      await ctx.sleep('nap', ctx.input.napMs!);
      await ctx.task('after', () => count('after'));
      return 'done';
    });
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('cancel/retried', { napMs: 300 });
    await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the run to sleep');
    await engine.cancel(runId, { reason: 'oops' });
    expect(await engine.retry(runId)).toEqual({ runId, status: 'queued' });
    const run = await engine.waitForRun(runId, { timeout: '10s' });
    expect(run.status).toBe('completed');
    expect(run.output).toBe('done');
    expect([ran(runId, 'before'), ran(runId, 'after')]).toEqual([1, 1]);
    expect(cancels.map((c) => c.reason)).toEqual(['oops']);
  });

  it('cancel twice is harmless: same answer, the first reason kept, hooks once', async () => {
    const { flow, cancels } = countingFlow('cancel/twice', async (ctx) => {
      await ctx.sleep('nap', '1h');
    });
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('cancel/twice', {});
    await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the run to sleep');

    expect(await engine.cancel(runId, { reason: 'first' })).toEqual({ runId, status: 'cancelled' });
    const once = await engine.getRun(runId);
    expect(await engine.cancel(runId, { reason: 'second' })).toEqual({ runId, status: 'cancelled' });
    expect(await engine.getRun(runId)).toEqual(once);
    expect(once!.error!.message).toBe('first');
    expect(cancels.map((c) => c.reason)).toEqual(['first']);
  });

  it('a finished run answers its terminal status and is left unchanged', async () => {
    const { flow, cancels } = countingFlow('cancel/finished', async (ctx) => ctx.memo('value', () => 42));
    const failing: FlowDefinition = {
      id: 'cancel/failing',
      handler: async (ctx) => ctx.task('boom', () => { throw new Error('no'); }, { retries: 0 }),
    };
    const engine = await env.harness.start([flow, failing]);
    const done = await engine.trigger('cancel/finished', {});
    const completed = await engine.waitForRun(done.runId);
    expect(completed.status).toBe('completed');
    expect(await engine.cancel(done.runId, { reason: 'too late' })).toEqual({ runId: done.runId, status: 'completed' });
    expect(await engine.getRun(done.runId)).toEqual(completed);

    const bad = await engine.trigger('cancel/failing', {});
    const failed = await engine.waitForRun(bad.runId);
    expect(failed.status).toBe('failed');
    expect(await engine.cancel(bad.runId)).toEqual({ runId: bad.runId, status: 'failed' });
    expect(await engine.getRun(bad.runId)).toEqual(failed);
    expect(cancels).toEqual([]);
  });

  it('an unknown run is RunNotFoundError; a reason that is not a short string is refused by name', async () => {
    const { flow } = countingFlow('cancel/unknown', async () => undefined);
    const engine = await env.harness.start([flow]);
    await expect(engine.cancel('no-such-run')).rejects.toThrow(RunNotFoundError);
    await expect(engine.cancel('bad id with spaces')).rejects.toThrow(RunNotFoundError);
    const { runId } = await engine.trigger('cancel/unknown', {}, { delay: '1h' });
    await expect(engine.cancel(runId, { reason: 'x'.repeat(1001) })).rejects.toThrow(/reason must be a string of at most 1000 characters/);
    await expect(engine.cancel(runId, { reason: 42 as unknown as string })).rejects.toThrow(/reason must be a string/);
    expect((await engine.getRun(runId))!.status).toBe('queued');
  });

  it('a running run whose node missed the nudge stops at its next heartbeat', async () => {
    let aborted: unknown;
    let nextRan = false;
    const flow: FlowDefinition = {
      id: 'cancel/missed-nudge',
      handler: async (ctx) => {
        await ctx.task('held', (task) => new Promise<void>((resolve) => task.signal.addEventListener('abort', () => {
          aborted = task.signal.reason;
          resolve();
        })));
        await ctx.task('next', () => void (nextRan = true));
      },
    };
    const prefix = `missed${process.pid}`;
    const engine = await env.harness.start([flow], { prefix, worker: { lease: '900ms' } });
    const { runId } = await engine.trigger('cancel/missed-nudge', {});
    await waitUntil(async () => (await engine.getRun(runId))?.status === 'running', 'the run to start');
    // The request as cancel() stores it, without the pub/sub nudge: only the heartbeat (every 300 ms) can see it.
    await env.redis.client.hset(`${prefix}:run:{${runId}}`, 'cancelRequested', 'nudge lost', 'cancelAt', Date.now());
    const run = await engine.waitForRun(runId, { timeout: '3s' });
    expect(run.status).toBe('cancelled');
    expect(run.error).toEqual({ name: 'RunCancelledError', message: 'nudge lost' });
    expect(aborted).toBeInstanceOf(RunCancelledError);
    expect(nextRan).toBe(false);
    expect(run.steps.map((s) => s.key)).toEqual([]);
  });

  it('a step that ends after a missed nudge: its write is refused, no later step starts, the run ends cancelled', async () => {
    let release!: () => void;
    let bRan = false;
    const flow: FlowDefinition = {
      id: 'cancel/refused-write',
      handler: async (ctx) => {
        await ctx.memo('a', () => new Promise<string>((resolve) => (release = () => resolve('late'))));
        await ctx.task('b', () => void (bRan = true));
      },
    };
    // A lease of 30 s: the heartbeat (every 10 s) cannot be what stops this run.
    const prefix = `refused${process.pid}`;
    const engine = await env.harness.start([flow], { prefix, worker: { lease: '30s' } });
    const { runId } = await engine.trigger('cancel/refused-write', {});
    await waitUntil(() => release, 'step a to start');
    await env.redis.client.hset(`${prefix}:run:{${runId}}`, 'cancelRequested', 'no nudge', 'cancelAt', Date.now());
    release();
    const run = await engine.waitForRun(runId, { timeout: '3s' });
    expect(run.status).toBe('cancelled');
    expect(run.error).toEqual({ name: 'RunCancelledError', message: 'no nudge' });
    expect(run.steps).toEqual([]);
    expect(bRan).toBe(false);
  });

  it('cancel racing a step completion, 200 times: never completed after a cancel was acknowledged, never a write after cancelled', async () => {
    const gates = new Map<string, () => void>();
    const bRan = new Set<string>();
    const flow: FlowDefinition = {
      id: 'cancel/race',
      handler: async (ctx) => {
        const a = await ctx.memo('a', () => new Promise<string>((resolve) => gates.set(ctx.runId, () => resolve('a-done'))));
        await ctx.task('b', () => void bRan.add(ctx.runId));
        return a;
      },
    };
    const prefix = `race${process.pid}`;
    const engine = await env.harness.start([flow], { prefix, worker: { concurrency: 10 } });
    const outcomes = { completedFirst: 0, cancelledWithA: 0, cancelledWithoutA: 0, cancelledWithB: 0, bBodyRanAfterAck: 0 };
    const snapshots = new Map<string, Record<string, string>>();
    const violations: string[] = [];
    const pauses = [
      () => undefined,
      () => Promise.resolve(),
      () => new Promise((r) => setImmediate(r)),
      () => new Promise((r) => setTimeout(r, 1)),
      () => new Promise((r) => setTimeout(r, 2)),
      () => new Promise((r) => setTimeout(r, 5)),
    ];

    for (let i = 0; i < 200; i++) {
      const runId = `race-${i}`;
      await engine.trigger('cancel/race', {}, { runId });
      await waitUntil(() => gates.has(runId), `step a of ${runId} to start`, 10_000);
      // The step's body returns, and after one of several pauses (none, a microtask, a macrotask, 1-5 ms) the cancel comes.
      gates.get(runId)!();
      // One try in ten lets the run finish first, so the answer "completed" is exercised however loaded the machine is.
      if (i % 10 === 9) await engine.waitForRun(runId, { timeout: '10s' });
      else await pauses[i % pauses.length]();
      const { status } = await engine.cancel(runId, { reason: `race ${i}` });
      const run = await engine.waitForRun(runId, { timeout: '10s' });
      if (status === 'cancelled' && run.status !== 'cancelled') violations.push(`${runId}: cancel acknowledged, run ${run.status}`);
      if (status === 'completed') outcomes.completedFirst++;
      if (run.status === 'cancelled') {
        const keys = run.steps.map((s) => s.key);
        if (keys.includes('a')) outcomes.cancelledWithA++;
        else outcomes.cancelledWithoutA++;
        if (keys.includes('b')) outcomes.cancelledWithB++;
        if (bRan.has(runId)) outcomes.bBodyRanAfterAck++;
        snapshots.set(runId, await env.redis.client.hgetall(`${prefix}:run:{${runId}}`));
      }
    }
    // Close: every execution in hand ends, and every write sent before lands before the connections quit.
    await engine.close();
    for (const [runId, before] of snapshots) {
      const after = await env.redis.client.hgetall(`${prefix}:run:{${runId}}`);
      if (JSON.stringify(after) !== JSON.stringify(before)) violations.push(`${runId}: written after it was cancelled`);
    }
    // eslint-disable-next-line no-console
    console.log(`cancel race, 200 tries: ${JSON.stringify(outcomes)}; violations: ${violations.length}`);
    expect(violations).toEqual([]);
    // The race is real only if both sides won sometimes.
    expect(outcomes.completedFirst).toBeGreaterThan(0);
    expect(outcomes.cancelledWithA + outcomes.cancelledWithoutA).toBeGreaterThan(0);
  });
});

describe('cancel, across processes', () => {
  const env = useWorkerProcesses('cancel');

  it('a run running on another node: its task sees signal.aborted, the next step never runs, cancelled within 2 s, OnFlowCancel once', async () => {
    const worker = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'far', lease: '30s' });
    const { runId } = await env.trigger.trigger(WORKER_FLOWS.abortable, {});
    await takeEvents(env.blocking, env.prefix, (e) => e.runId === runId && e.key === 'held', 1);

    const asked = Date.now();
    // This process runs no worker (worker: false): the run can only stop through the nudge (a 30 s lease means
    // its heartbeat comes every 10 s, far past the 2 s this test allows).
    expect(await env.trigger.cancel(runId, { reason: 'stop now' })).toEqual({ runId, status: 'cancelled' });
    const run = await env.trigger.waitForRun(runId, { timeout: '2s' });
    expect(Date.now() - asked).toBeLessThan(2000);
    expect(run.status).toBe('cancelled');
    expect(run.error).toEqual({ name: 'RunCancelledError', message: 'stop now' });
    expect(run.steps.map((s) => s.key)).toEqual([]);

    const seen = await waitUntil(() => env.redis.client.get(abortedKey(env.prefix, runId)), 'the task to report its abort');
    expect(JSON.parse(seen)).toEqual({ name: 'RunCancelledError', message: 'stop now', worker: 'far' });
    await waitUntil(async () => (await env.redis.client.llen(cancelHooksKey(env.prefix, runId))) > 0, 'the OnFlowCancel hook');
    // A graceful stop ends everything the worker had in hand: nothing more can be called after it.
    await worker.stop();
    expect(await env.redis.client.lrange(cancelHooksKey(env.prefix, runId), 0, -1)).toEqual([JSON.stringify({ reason: 'stop now', worker: 'far' })]);
    expect(await env.effects(runId, ['held', 'next'])).toEqual({ held: 1, next: 0 });
    expect((await env.trigger.getRun(runId))!.status).toBe('cancelled');
  });

  it('a worker SIGKILLed mid-run, then the run cancelled: the next claim ends it cancelled without running a step', async () => {
    const first = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'first', hangOn: ['charge'] });
    const { runId } = await env.trigger.trigger(WORKER_FLOWS.checkout);
    await takeEvents(env.blocking, env.prefix, (e) => e.runId === runId && e.key === 'charge', 1);
    await first.kill();
    expect((await env.trigger.getRun(runId))!.status).toBe('running');

    // Nobody hears the nudge: the request waits in the run for whoever claims it next.
    expect(await env.trigger.cancel(runId, { reason: 'host died' })).toEqual({ runId, status: 'cancelled' });
    expect((await env.trigger.getRun(runId))!.status).toBe('running');

    await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'second' });
    const run = await env.trigger.waitForRun(runId, { timeout: '20s' });
    expect(run.status).toBe('cancelled');
    expect(run.error).toEqual({ name: 'RunCancelledError', message: 'host died' });
    expect(run.executions).toBe(2);
    expect(await env.effects(runId, ['reserve', 'charge', 'ship'])).toEqual({ reserve: 1, charge: 1, ship: 0 });
  });
});

describe('cancel on a 3-master Redis Cluster', () => {
  const env = useCluster();

  it('the nudge reaches the worker through the cluster, and a sleeping run is cancelled in its slot', async () => {
    let aborted: unknown;
    const flow: FlowDefinition = {
      id: 'cancel/cluster',
      handler: async (ctx) => {
        if ((ctx.input as { sleep?: boolean }).sleep) await ctx.sleep('nap', '1h');
        await ctx.task('held', (task) => new Promise<void>((resolve) => task.signal.addEventListener('abort', () => {
          aborted = task.signal.reason;
          resolve();
        })));
      },
    };
    const connection = { cluster: env.cluster.nodes };
    await env.harness.start([flow], { connection, prefix: 'gcc', worker: { lease: '30s' } });
    const producer = await env.harness.start([flow], { connection, prefix: 'gcc', worker: false });

    const running = await producer.trigger('cancel/cluster', {});
    await waitUntil(async () => (await producer.getRun(running.runId))?.status === 'running', 'the run to start');
    expect(await producer.cancel(running.runId, { reason: 'cluster' })).toEqual({ runId: running.runId, status: 'cancelled' });
    expect((await producer.waitForRun(running.runId, { timeout: '2s' })).error).toEqual({ name: 'RunCancelledError', message: 'cluster' });
    expect(aborted).toBeInstanceOf(RunCancelledError);

    const sleeping = await producer.trigger('cancel/cluster', { sleep: true });
    await waitUntil(async () => (await producer.getRun(sleeping.runId))?.status === 'sleeping', 'the run to sleep');
    expect(await producer.cancel(sleeping.runId)).toEqual({ runId: sleeping.runId, status: 'cancelled' });
    expect((await producer.getRun(sleeping.runId))!.status).toBe('cancelled');
  });
});
