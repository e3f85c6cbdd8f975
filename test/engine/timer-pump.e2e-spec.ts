import type { EngineLogger, FlowContext, FlowDefinition, GoTickEngine } from '../../lib/engine';
import { RedisRunStore } from '../../lib/engine/redis/run-store';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

/**
 * Sleeping runs hold no queue job: the timer pump of each worker node moves
 * due wake-ups from the wakes set into the resume lane. A wake-up must never
 * be lost (whoever dies on the way) nor fire twice.
 */
describe('the timer pump', () => {
  const env = useEngines();
  let testNo = 0;
  let prefix: string;
  beforeEach(() => void (prefix = `pump${process.pid}x${++testNo}`));

  const wakesKey = () => `{${prefix}:timers}:wakes`;
  const delayedJobs = () => env.redis.client.zcard(`${prefix}:runs:delayed`);
  const waitingJobs = () => env.redis.client.llen(`${prefix}:runs:wait`);
  const parked = async (engine: GoTickEngine, runId: string) => (await engine.getRun(runId))?.status === 'sleeping';

  /** Wakes at `at`, then notes when it got going again (once per run, or the count shows it). */
  const woke = new Map<string, number[]>();
  const alarm: FlowDefinition = {
    id: 'pump/alarm',
    handler: async (ctx: FlowContext<{ at: number }>) => {
      await ctx.sleepUntil('nap', ctx.input.at);
      await ctx.task('after', () => void woke.set(ctx.runId, [...(woke.get(ctx.runId) ?? []), Date.now()]), { timeout: '5s' });
    },
  };
  afterEach(() => woke.clear());

  it('parks a sleeping run with only its wakes entry (no queue job, no reconciler timer) and wakes it on time', async () => {
    const engine = await env.harness.start([alarm], { prefix });
    const at = Date.now() + 2500;
    const runIds = await Promise.all(Array.from({ length: 20 }, async () => (await engine.trigger('pump/alarm', { at })).runId));
    for (const runId of runIds) await waitUntil(() => parked(engine, runId), `run ${runId} to sleep`);

    expect({ delayed: await delayedJobs(), waiting: await waitingJobs(), wakes: await env.redis.client.zcard(wakesKey()) }).toEqual({ delayed: 0, waiting: 0, wakes: 20 });
    const timers = await Promise.all(runIds.map((runId) => env.redis.client.zscore(`${prefix}:timers`, runId)));
    expect(timers.filter((t) => t !== null)).toEqual([]);

    for (const runId of runIds) expect((await engine.waitForRun(runId, { timeout: '10s' })).executions).toBe(2);
    const lateness = runIds.map((runId) => woke.get(runId)![0] - at);
    // The pump wakes for the earliest entry, not on Redis' cron tick: well under BullMQ's ~100 ms at hz 10.
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lateness)).toBeLessThan(500);
    expect(await env.redis.client.zcard(wakesKey())).toBe(0);
  });

  it('three nodes racing over 600 wake-ups: each is claimed and enqueued once, each run wakes once', async () => {
    const engines: GoTickEngine[] = [];
    for (let i = 0; i < 3; i++) engines.push(await env.harness.start([alarm], { prefix, worker: { concurrency: 50 } }));
    const at = Date.now() + 4000;
    const runIds: string[] = [];
    for (let i = 0; i < 600; i += 100) {
      // Ten distinct wake times, 60 runs each: pumps of every node fire for the same entries at the same moment.
      const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => engines[(i + j) % 3].trigger('pump/alarm', { at: at + ((i + j) % 10) * 7 })));
      runIds.push(...batch.map((r) => r.runId));
    }
    await waitUntil(async () => (await env.redis.client.zcard(wakesKey())) === 600, 'every run to be parked', at - Date.now());

    await waitUntil(() => runIds.every((runId) => woke.has(runId)), 'every run to wake', 20_000);
    const views = await Promise.all(runIds.map((runId) => engines[0].waitForRun(runId, { timeout: '10s' })));
    expect(views.filter((v) => v.status !== 'completed' || v.executions !== 2)).toEqual([]);
    expect(runIds.filter((runId) => woke.get(runId)!.length !== 1)).toEqual([]);
    // Every job the pumps added, from BullMQ's own event stream: one per wake-up.
    const events = await env.redis.client.xrange(`${prefix}:runs:events`, '-', '+');
    const added = events.map(([, fields]) => fields).filter((f) => f[1] === 'added' && /^w\d+-/.test(f[3]));
    expect(added.length).toBe(600);
    expect(new Set(added.map((f) => f[3])).size).toBe(600);
  }, 60_000);

  it('a wake-up claimed by a pump that died before adding its job is woken by the reconciler', async () => {
    const warnings: string[] = [];
    const logger: EngineLogger = { log: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
    const first = await env.harness.start([alarm], { prefix, logger, worker: { lease: '1s' } });
    const at = Date.now() + 1500;
    const { runId } = await first.trigger('pump/alarm', { at });
    await waitUntil(() => parked(first, runId), 'the run to sleep');
    await first.close();
    await waitUntil(() => Date.now() > at, 'the wake time to pass');
    // What a pump does before it adds the job, then dies: the entry leaves the wakes set for a reconciler timer.
    const store = new RedisRunStore(env.redis.client, prefix, 60_000);
    const claimed = await store.claimDueWakes(Date.now(), 10, Date.now() + 1000);
    expect(claimed.due.map((d) => ({ runId: d.runId, wakeAt: d.wakeAt }))).toEqual([{ runId, wakeAt: at }]);
    expect(claimed.nextAt).toBeUndefined();
    expect(await env.redis.client.zcard(wakesKey())).toBe(0);
    expect(await env.redis.client.zscore(`${prefix}:timers`, runId)).not.toBeNull();

    const second = await env.harness.start([alarm], { prefix, logger, worker: { lease: '1s' } });
    const run = await second.waitForRun(runId, { timeout: '15s' });
    expect({ status: run.status, executions: run.executions, woke: woke.get(runId)!.length }).toEqual({ status: 'completed', executions: 2, woke: 1 });
    expect(warnings.filter((w) => /Re-enqueued/.test(w))).toEqual([`Re-enqueued 1 run(s) that no queue job was going to wake: "${runId}".`]);
  }, 30_000);

  it('a run parked by a node that is gone is woken by another node\'s pump, within its idle interval', async () => {
    const first = await env.harness.start([alarm], { prefix });
    const at = Date.now() + 1500;
    const { runId } = await first.trigger('pump/alarm', { at });
    await waitUntil(() => parked(first, runId), 'the run to sleep');
    await first.close();
    // This node never heard of the park: only its idle look at the wakes set finds it.
    const second = await env.harness.start([alarm], { prefix });
    expect((await second.waitForRun(runId, { timeout: '10s' })).status).toBe('completed');
    expect(woke.get(runId)![0] - at).toBeLessThan(1500);
  });

  it('wakes signal-wait timeouts, retry backoffs and whole-run deadlines too, without a queue job', async () => {
    let attempts = 0;
    const flows: FlowDefinition[] = [
      { id: 'pump/wait', handler: async (ctx) => ctx.waitForSignal('go', 'go', { timeout: 1500 }) },
      {
        id: 'pump/flaky',
        handler: async (ctx) =>
          ctx.memo('call', () => {
            if (++attempts === 1) throw new Error('first attempt fails');
            return attempts;
          }, { retries: 1, backoff: 1500 }),
      },
      { id: 'pump/late', options: { timeout: '1500ms' }, handler: async (ctx) => void (await ctx.sleep('forever', '1h')) },
    ];
    const engine = await env.harness.start(flows, { prefix });
    const [wait, flaky, late] = await Promise.all(['pump/wait', 'pump/flaky', 'pump/late'].map(async (id) => (await engine.trigger(id, {})).runId));
    for (const runId of [wait, flaky, late]) await waitUntil(() => parked(engine, runId), `run ${runId} to park`);
    expect({ delayed: await delayedJobs(), wakes: await env.redis.client.zcard(wakesKey()) }).toEqual({ delayed: 0, wakes: 3 });

    const [w, f, l] = await Promise.all([wait, flaky, late].map((runId) => engine.waitForRun(runId, { timeout: '10s' })));
    expect({ status: w.status, output: w.output }).toEqual({ status: 'completed', output: null });
    expect({ status: f.status, output: f.output }).toEqual({ status: 'completed', output: 2 });
    expect({ status: l.status, error: l.error?.name }).toEqual({ status: 'failed', error: 'FlowTimeoutError' });
    expect(await env.redis.client.zcard(wakesKey())).toBe(0);
  });

  it('a wake time with a fraction of a millisecond wakes the run once, not before it', async () => {
    const engine = await env.harness.start([alarm], { prefix });
    const at = Date.now() + 1500.5;
    const { runId } = await engine.trigger('pump/alarm', { at });
    await waitUntil(() => parked(engine, runId), 'the run to sleep');
    expect(Number(await env.redis.client.zscore(wakesKey(), runId))).toBe(Math.ceil(at) * 1000 + 1);
    expect((await engine.waitForRun(runId, { timeout: '10s' })).executions).toBe(2);
    expect(woke.get(runId)![0]).toBeGreaterThanOrEqual(at);
  });

  it('a run that ends before its wake time leaves no wake-up behind', async () => {
    const engine = await env.harness.start([{ id: 'pump/signalled', handler: async (ctx) => (await ctx.waitForSignal('go', 'go', { timeout: '1h' }))?.payload }], { prefix });
    const { runId } = await engine.trigger('pump/signalled', {});
    await waitUntil(() => parked(engine, runId), 'the run to wait');
    expect(await env.redis.client.zscore(wakesKey(), runId)).not.toBeNull();
    await engine.signal(runId, 'go', 'went');
    expect((await engine.waitForRun(runId, { timeout: '5s' })).output).toBe('went');
    await waitUntil(async () => (await env.redis.client.zscore(wakesKey(), runId)) === null, 'the wake-up to be dropped');
  });
});
