import { type FlowContext } from '../../lib/engine';
import { createTestEngine, type GoTickTestHarness } from '../../lib/testing';

/**
 * Lets the engine move a few macrotask turns, so a cancel lands at a different point of each run. The
 * memory backend is deterministic: the same tries give the same split every time, which a test can rely on.
 */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('races on the memory backend', () => {
  let gotick: GoTickTestHarness | undefined;
  afterEach(() => gotick?.close());

  it('cancel against completion, 300 tries: a cancel that answered "cancelled" is never followed by another ending', async () => {
    gotick = await createTestEngine({
      worker: { concurrency: 50 },
      flows: [
        {
          id: 'race/steps',
          handler: async (ctx: FlowContext) => {
            for (let i = 0; i < 5; i++) {
              await ctx.task(`s${i}`, () => new Promise((resolve) => setImmediate(resolve)));
            }
            return 'done';
          },
        },
      ],
    });
    const outcomes = { cancelled: 0, completed: 0 };
    const liars: string[] = [];
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const { runId } = await gotick!.trigger('race/steps');
        await turns(i % 12);
        const answer = await gotick!.cancel(runId);
        const run = await gotick!.waitForRun(runId);
        outcomes[run.status as 'cancelled' | 'completed']++;
        if (answer.status === 'cancelled' && run.status !== 'cancelled') liars.push(runId);
        if (answer.status === 'completed' && run.status !== 'completed') liars.push(runId);
      }),
    );
    expect(liars).toEqual([]);
    expect(outcomes.cancelled + outcomes.completed).toBe(300);
    // Both sides of the race were exercised.
    expect(outcomes.cancelled).toBeGreaterThan(0);
    expect(outcomes.completed).toBeGreaterThan(0);
    console.log(`300 cancel races: ${outcomes.cancelled} cancelled, ${outcomes.completed} completed, 0 completed after a cancel`);
  });
});
