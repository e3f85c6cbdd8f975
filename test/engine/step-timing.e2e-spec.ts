import { UnknownFlowError, type FlowContext, type StepView } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

const ms = (iso?: string) => Date.parse(iso!);

describe('step timing and wait groups in the run view', () => {
  const env = useEngines();

  it('numbers each ctx.wait of a run in order, across executions, and keeps when each step and attempt began', async () => {
    let flakyCalls = 0;
    const engine = await env.harness.start([
      {
        id: 'timed',
        handler: async (ctx: FlowContext) => {
          await ctx.memo('before', () => 1);
          await ctx.wait(ctx.asyncArray('first', [30, 60], (_t, delay) => new Promise((resolve) => setTimeout(() => resolve(delay), delay))));
          await ctx.task(
            'flaky',
            () => {
              if (++flakyCalls < 3) throw new Error(`attempt ${flakyCalls}`);
            },
            { retries: 3, backoff: '50ms' },
          );
          // The sleep ends this execution: the next wait is numbered by a later one, replaying the first.
          await ctx.sleep('nap', '100ms');
          await ctx.wait([ctx.async('second:a', () => 'a'), ctx.async('second:b', () => 'b')]);
          await ctx.waitForSignal('go', 'go');
          return 'done';
        },
      },
    ]);
    const { runId } = await engine.trigger('timed');
    await waitUntil(async () => (await engine.getRun(runId))?.steps.some((s) => s.key === 'go' && s.status === 'waiting'), 'the signal wait');
    const reachedWait = Date.now();
    await engine.signal(runId, 'go');
    const run = await engine.waitForRun(runId, { timeout: '10s' });
    expect(run.status).toBe('completed');
    expect(run.executions).toBeGreaterThanOrEqual(3);
    const step = (key: string) => run.steps.find((s) => s.key === key) as StepView;

    expect(step('before').waitGroup).toBeUndefined();
    expect([step('first:0').waitGroup, step('first:1').waitGroup]).toEqual([1, 1]);
    expect([step('second:a').waitGroup, step('second:b').waitGroup]).toEqual([2, 2]);
    expect(step('flaky').waitGroup).toBeUndefined();

    // Every finished step has a start no later than its end; the two of the first wait overlapped.
    for (const s of run.steps) {
      expect(s.startedAt).toBeDefined();
      expect(ms(s.startedAt)).toBeLessThanOrEqual(ms(s.finishedAt));
    }
    expect(Math.max(ms(step('first:0').startedAt), ms(step('first:1').startedAt))).toBeLessThan(ms(step('first:0').finishedAt));
    expect(ms(step('first:1').finishedAt) - ms(step('first:1').startedAt)).toBeGreaterThanOrEqual(55);

    // Two failed attempts, each with its own start and end, the backoffs between them, then the last attempt.
    const flaky = step('flaky');
    expect(flaky.errors!.map((e) => e.attempt)).toEqual([1, 2]);
    for (const error of flaky.errors!) expect(ms(error.startedAt)).toBeLessThanOrEqual(ms(error.at));
    expect(ms(flaky.errors![1].startedAt) - ms(flaky.errors![0].at)).toBeGreaterThanOrEqual(40);
    expect(ms(flaky.startedAt) - ms(flaky.errors![1].at)).toBeGreaterThanOrEqual(40);

    // A sleep spans from when the flow reached it to its wake-up; a signal wait from when it was reached to the signal.
    const nap = step('nap');
    expect(ms(nap.wakeAt) - ms(nap.startedAt)).toBeGreaterThanOrEqual(100);
    const go = step('go');
    expect(ms(go.startedAt)).toBeLessThanOrEqual(reachedWait);
    expect(ms(go.finishedAt)).toBeGreaterThanOrEqual(reachedWait);
  });

  it('counts a flow\'s runs by status, and names an unknown flow', async () => {
    const engine = await env.harness.start([
      { id: 'ok', handler: async () => 'ok' },
      {
        id: 'nap',
        handler: async (ctx: FlowContext) => {
          await ctx.sleep('long', '1h');
        },
      },
      {
        id: 'bad',
        handler: async (ctx: FlowContext) => {
          await ctx.task('boom', () => {
            throw new Error('boom');
          }, { retries: 0 });
        },
      },
    ]);
    const done = await engine.triggerMany('ok', [{}, {}, {}]);
    const sleeping = await engine.triggerMany('nap', [{}, {}]);
    const failed = await engine.trigger('bad');
    for (const run of [...done, ...sleeping, failed]) {
      await waitUntil(async () => ['completed', 'sleeping', 'failed'].includes((await engine.getRun(run.runId))!.status), 'each run to settle');
    }
    await engine.cancel(sleeping[0].runId);
    expect(await engine.countRuns('ok')).toEqual({
      flowId: 'ok',
      total: 3,
      counted: 3,
      byStatus: { queued: 0, running: 0, sleeping: 0, completed: 3, failed: 0, cancelled: 0 },
    });
    expect((await engine.countRuns('nap')).byStatus).toMatchObject({ sleeping: 1, cancelled: 1 });
    expect((await engine.countRuns('bad')).byStatus).toMatchObject({ failed: 1 });
    await expect(engine.countRuns('nope')).rejects.toThrow(UnknownFlowError);
  });
});
