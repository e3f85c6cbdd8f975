import type { EngineLogger, FlowContext } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

const RUNS = 1500;

/**
 * A backlog is not a loss: runs whose jobs wait behind thousands of others,
 * far past the reconciler's grace period, must not get a second job, and the
 * reconciler's warning must only count runs that truly had none.
 */
describe('the reconciler under a backlog', () => {
  const env = useEngines();

  it('adds no job for runs whose job still waits, warns about none of them, and still re-enqueues a run whose job was deleted', async () => {
    const prefix = `backlog${process.pid}`;
    const warnings: string[] = [];
    // The flow sets no step timeout: its once-per-flow warning is not the reconciler's business.
    const logger: EngineLogger = { log: () => undefined, warn: (m) => void (/ with no timeout: /.test(m) || warnings.push(m)), error: (m) => warnings.push(m) };
    const worked = new Map<string, number>();
    const engine = await env.harness.start(
      [
        {
          id: 'wake-together',
          handler: async (ctx: FlowContext<{ at: number }>) => {
            await ctx.sleepUntil('nap', ctx.input.at);
            // Slow on purpose, one at a time: the last runs wake seconds after the reconciler's grace.
            await ctx.task('work', async () => {
              worked.set(ctx.runId, (worked.get(ctx.runId) ?? 0) + 1);
              await new Promise((resolve) => setTimeout(resolve, 5));
            });
          },
        },
      ],
      { prefix, logger, worker: { concurrency: 1, lease: '1s' } },
    );
    // All wake at one moment, after every run has parked (new runs also wait in line while they are triggered).
    const at = Date.now() + 12_000;
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, RUNS - i) }, () => engine.trigger('wake-together', { at })));
      runIds.push(...batch.map((r) => r.runId));
    }
    // Parked with no queue job: each run's wake-up waits in the timer pump's set.
    await waitUntil(
      async () => (await env.redis.client.zcard(`{${prefix}:timers}:wakes`)) === RUNS,
      'every run to be parked with its wake-up',
      at - Date.now() - 1000,
    );
    expect(await env.redis.client.zcard(`${prefix}:runs:delayed`)).toBe(0);
    // At `at` the pump moves every wake-up into the queue, in run id order; the worker takes them
    // first in, first out, so the last run id is the last to be reached. Lose its job for real, as a
    // crash or a lost AOF second could, while the backlog ahead of it keeps the worker busy.
    const lost = [...runIds].sort().pop()!;
    const jobId = `w1-${lost}`;
    await waitUntil(async () => (await env.redis.client.lrem(`${prefix}:runs:wait`, 0, jobId)) === 1, 'the last wake-up job to be added', 20_000);
    await env.redis.client.del(`${prefix}:runs:${jobId}`);

    await waitUntil(async () => worked.size === RUNS && (await engine.getRun(lost))?.status === 'completed', 'every run to complete', 120_000);
    // Done well past the grace period: the backlog really outlasted it.
    expect(Date.now() - at).toBeGreaterThan(6000);
    const requeued = warnings.map((w) => /Re-enqueued (\d+) run/.exec(w)).map((m) => Number(m?.[1] ?? NaN));
    expect({ requeued, otherWarnings: warnings.filter((w) => !/Re-enqueued/.test(w)) }).toEqual({ requeued: [1], otherWarnings: [] });
    const views = await Promise.all(runIds.map((runId) => engine.getRun(runId)));
    const executions = views.map((run) => run!.executions);
    expect({ completed: views.filter((run) => run!.status === 'completed').length, maxExecutions: Math.max(...executions) }).toEqual({
      completed: RUNS,
      maxExecutions: 2,
    });
    expect([...worked.values()].every((n) => n === 1)).toBe(true);
  }, 180_000);

  it('still re-enqueues a run whose signal wake-up job was lost, though its signal wait keeps a resume job due in an hour', async () => {
    const prefix = `lostsignal${process.pid}`;
    const warnings: string[] = [];
    const logger: EngineLogger = { log: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
    const flow = {
      id: 'awaits-go',
      handler: async (ctx: FlowContext) => (await ctx.waitForSignal('go', 'go'))?.payload,
    };
    const first = await env.harness.start([flow], { prefix, logger, worker: { lease: '1s' } });
    const { runId } = await first.trigger('awaits-go');
    await waitUntil(async () => (await first.getRun(runId))?.status === 'sleeping', 'the run to wait for its signal');
    await first.close();
    // No worker while the signal is sent, so its job can be lost before anyone takes it.
    const sender = await env.harness.start([flow], { prefix, logger, worker: false });
    await sender.signal(runId, 'go', 'went');
    const waiting = await env.redis.client.lrange(`${prefix}:runs:wait`, '0', '-1');
    expect(waiting).toHaveLength(1);
    await env.redis.client.lrem(`${prefix}:runs:wait`, 0, waiting[0]);
    await env.redis.client.del(`${prefix}:runs:${waiting[0]}`);
    // The signal wait's own wake-up (an hour away, in the timer pump's set) is still there: it must not pass for the lost one.
    expect(await env.redis.client.zscore(`{${prefix}:timers}:wakes`, runId)).not.toBeNull();

    const worker = await env.harness.start([flow], { prefix, logger, worker: { lease: '1s' } });
    const run = await worker.waitForRun(runId, { timeout: '20s' });
    expect(run.output).toBe('went');
    expect(warnings.filter((w) => /Re-enqueued/.test(w))).toEqual([`Re-enqueued 1 run(s) that no queue job was going to wake: "${runId}".`]);
  }, 60_000);
});
