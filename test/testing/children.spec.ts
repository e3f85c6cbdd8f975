import { ChildFlowFailedError, type FlowContext } from '../../lib/engine';
import { createTestEngine, type GoTickTestHarness } from '../../lib/testing';

/** Child flows on the testing kit's memory backend and virtual clock, as on Redis. */
describe('child flows in the testing kit', () => {
  let gotick: GoTickTestHarness | undefined;
  afterEach(async () => {
    await gotick?.close();
    gotick = undefined;
  });

  it('a parent waits for a child that sleeps 30 days, then gets its output; a failed child is caught', async () => {
    gotick = await createTestEngine({
      flows: [
        {
          id: 'kid/slow',
          handler: async (ctx: FlowContext<{ fail: boolean }>) => {
            await ctx.sleep('month', '30d');
            if (ctx.input.fail) throw new Error('declined');
            return 'settled';
          },
        },
        {
          id: 'parent',
          handler: async (ctx: FlowContext) => {
            const ok = await ctx.child<string>('ok', 'kid/slow', { fail: false });
            try {
              await ctx.child('bad', 'kid/slow', { fail: true });
              return { ok, bad: 'no' };
            } catch (err) {
              return { ok, bad: (err as ChildFlowFailedError).childError.name };
            }
          },
        },
      ],
    });
    const { runId } = await gotick.trigger('parent');
    await gotick.runUntilIdle();
    expect((await gotick.getRun(runId))!.status).toBe('sleeping');
    await gotick.advance('31d');
    expect((await gotick.listRuns({ parentRunId: runId })).runs.map((r) => r.status)).toEqual(['sleeping', 'completed']);
    await gotick.advance('31d');
    const run = (await gotick.getRun(runId))!;
    expect(run.output).toEqual({ ok: 'settled', bad: 'Error' });
  });

  it('cancelling the parent cancels the sleeping child', async () => {
    gotick = await createTestEngine({
      flows: [
        { id: 'kid/slow', handler: (ctx: FlowContext) => ctx.sleep('month', '30d') },
        { id: 'parent', handler: (ctx: FlowContext) => ctx.child('kid', 'kid/slow') },
      ],
    });
    const { runId } = await gotick.trigger('parent');
    await gotick.runUntilIdle();
    const kidId = (await gotick.getRun(runId))!.steps[0].childRunId!;
    await gotick.cancel(runId);
    await gotick.runUntilIdle();
    expect((await gotick.getRun(kidId))!.status).toBe('cancelled');
  });
});
