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

  it('concurrency cap against cancels, 300 runs with limit 3: never more than 3 executions at once, a run cancelled in line never runs, every other run runs once', async () => {
    /** Step bodies entering (+1) and leaving (-1), in order: peaks are counted afterwards over any set of runs. */
    const events: Array<[runId: string, delta: 1 | -1]> = [];
    const bodies = new Map<string, number>();
    gotick = await createTestEngine({
      worker: { concurrency: 50 },
      flows: [
        {
          id: 'race/capped',
          options: { concurrency: 3 },
          handler: async (ctx: FlowContext<number>) => {
            await ctx.task('work', async () => {
              bodies.set(ctx.runId, (bodies.get(ctx.runId) ?? 0) + 1);
              events.push([ctx.runId, 1]);
              await turns(1 + (ctx.input % 3));
              events.push([ctx.runId, -1]);
            });
          },
        },
      ],
    });
    const runs = await Promise.all(Array.from({ length: 300 }, (_, i) => gotick!.trigger('race/capped', i)));
    // Cancels land at different points: some while the run waits in line, some while it runs, some after it ended.
    const answers = new Map<string, string>();
    for (let i = 0; i < runs.length; i += 4) {
      await turns(i % 5);
      answers.set(runs[i].runId, (await gotick.cancel(runs[i].runId, { reason: 'race' })).status);
    }
    await gotick.runUntilIdle();
    const ends = new Map(await Promise.all(runs.map(async ({ runId }) => [runId, (await gotick!.getRun(runId))!.status] as const)));
    const peakOf = (counted: (runId: string) => boolean) => {
      let inside = 0;
      let peak = 0;
      for (const [runId, delta] of events) if (counted(runId)) peak = Math.max(peak, (inside += delta));
      return peak;
    };
    const cancelled = [...ends].filter(([, status]) => status === 'cancelled').map(([runId]) => runId);
    const cancelledInLine = cancelled.filter((runId) => !bodies.has(runId));
    const completed = [...ends.values()].filter((status) => status === 'completed').length;
    // A run cancelled mid-step ends (and gives its slot back) at once; its body, which ignores its
    // abort signal here, runs on unowned. The cap counts executions, so only those that went on are held to it.
    const cappedPeak = peakOf((runId) => ends.get(runId) === 'completed');
    // eslint-disable-next-line no-console
    console.log(`300 capped runs, 75 cancels: ${completed} completed, ${cancelled.length} cancelled (${cancelledInLine.length} while in line); peak ${cappedPeak} executions, ${peakOf(() => true)} step bodies counting abandoned ones`);
    expect(cappedPeak).toBe(3);
    expect(completed + cancelled.length).toBe(300);
    expect([...bodies.values()].every((count) => count === 1)).toBe(true);
    for (const [runId, answer] of answers) if (answer === 'cancelled') expect(ends.get(runId)).toBe('cancelled');
    expect(cancelledInLine.length).toBeGreaterThan(0);
  });
});
