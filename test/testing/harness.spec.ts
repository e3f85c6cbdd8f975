import { type FlowContext } from '../../lib/engine';
import { createTestEngine, type GoTickTestHarness } from '../../lib/testing';

describe('GoTickTestHarness', () => {
  let gotick: GoTickTestHarness | undefined;
  afterEach(async () => {
    await gotick?.close();
    gotick = undefined;
  });

  it('advance fires timers in time order, each with the clock at its own time', async () => {
    const woke: Array<[string, number]> = [];
    gotick = await createTestEngine({
      startAt: new Date('2030-01-01T00:00:00Z'),
      flows: [
        {
          id: 'nap',
          handler: async (ctx: FlowContext<{ name: string; for: string }>) => {
            await ctx.sleep('nap', ctx.input.for as '1h');
            await ctx.task('woke', () => void woke.push([ctx.input.name, gotick!.now()]));
          },
        },
      ],
    });
    const start = gotick.now();
    await gotick.trigger('nap', { name: 'late', for: '2h' });
    await gotick.trigger('nap', { name: 'early', for: '1h' });
    await gotick.advance('90m');
    expect(woke).toEqual([['early', start + 3_600_000]]);
    expect(gotick.now()).toBe(start + 90 * 60_000);
    await gotick.advance('1d');
    expect(woke).toEqual([
      ['early', start + 3_600_000],
      ['late', start + 7_200_000],
    ]);
  });

  it('runUntilIdle runs what is due without moving the clock', async () => {
    gotick = await createTestEngine({ flows: [{ id: 'sleepy', handler: (ctx: FlowContext) => ctx.sleep('s', '1m') }] });
    const start = gotick.now();
    const { runId } = await gotick.trigger('sleepy');
    await gotick.runUntilIdle();
    expect((await gotick.getRun(runId))!.status).toBe('sleeping');
    expect(gotick.now()).toBe(start);
  });

  it('takes every due resume before any new run (the resume lane), as the BullMQ queue does', async () => {
    const order: string[] = [];
    gotick = await createTestEngine({
      worker: { concurrency: 1 },
      flows: [
        { id: 'new', handler: (ctx: FlowContext<string>) => ctx.task('t', () => void order.push(ctx.input)) },
        {
          id: 'resumed',
          handler: async (ctx: FlowContext) => {
            await ctx.sleep('s', '100ms');
            await ctx.task('t', () => void order.push('resume'));
          },
        },
      ],
    });
    // The new runs' timers are armed first, so time order alone would run them first.
    for (const name of ['b', 'c', 'd']) await gotick.trigger('new', name, { delay: '100ms' });
    await gotick.trigger('resumed');
    await gotick.advance('100ms');
    expect(order).toEqual(['resume', 'b', 'c', 'd']);
  });

  it('mockStep: the mock runs instead of the body, its result is recorded and replayed, clearMocks restores the body', async () => {
    const real: string[] = [];
    let mocked = 0;
    gotick = await createTestEngine({
      flows: [
        {
          id: 'quote',
          handler: async (ctx: FlowContext) => {
            const price = await ctx.memo('price', () => (real.push('price'), 10));
            await ctx.sleep('s', '1m');
            const parts = await ctx.wait(ctx.asyncArray('part', [1, 2, 3], (_t, n) => (real.push(`part:${n}`), n)));
            return { price, parts };
          },
        },
      ],
    });
    gotick.mockStep('quote', 'price', () => (mocked++, 99));
    gotick.mockStep('quote', 'part:1', () => -2);
    const first = await gotick.trigger('quote');
    const run = await gotick.waitForRun(first.runId, { timeout: '1h' });
    expect(run.output).toEqual({ price: 99, parts: [1, -2, 3] });
    // Replayed after the sleep, not called again.
    expect(mocked).toBe(1);
    expect(real).toEqual(['part:1', 'part:3']);
    expect((await gotick.history(first.runId)).map((s) => [s.key, s.attempts])).toEqual([
      ['price', 1],
      ['s', 1],
      ['part:0', 1],
      ['part:1', 1],
      ['part:2', 1],
    ]);

    gotick.clearMocks();
    real.length = 0;
    const second = await gotick.trigger('quote');
    expect((await gotick.waitForRun(second.runId, { timeout: '1h' })).output).toEqual({ price: 10, parts: [1, 2, 3] });
    expect(real).toEqual(['price', 'part:1', 'part:2', 'part:3']);
  });

  it('waitForRun moves the clock no further than its timeout, then fails as TickService does', async () => {
    gotick = await createTestEngine({ flows: [{ id: 'month', handler: (ctx: FlowContext) => ctx.sleep('s', '30d') }] });
    const start = gotick.now();
    const { runId } = await gotick.trigger('month');
    await expect(gotick.waitForRun(runId, { timeout: '1d' })).rejects.toThrow(/did not finish within 86400000 ms \(status: sleeping\)/);
    expect(gotick.now()).toBe(start + 86_400_000);
    expect((await gotick.waitForRun(runId, { timeout: '30d' })).status).toBe('completed');
  });

  it('finished runs expire after the retention, on the virtual clock', async () => {
    gotick = await createTestEngine({ retention: '1d', flows: [{ id: 'quick', handler: async () => 'done' }] });
    const { runId } = await gotick.trigger('quick');
    await gotick.runUntilIdle();
    await gotick.advance('23h');
    expect((await gotick.getRun(runId))!.status).toBe('completed');
    await gotick.advance('1h');
    expect(await gotick.getRun(runId)).toBeNull();
    expect((await gotick.listRuns({ flowId: 'quick' })).runs).toEqual([]);
  });

  it('a whole-run timeout ends a parked run at its deadline exactly, not at its wake time', async () => {
    gotick = await createTestEngine({ flows: [{ id: 'slow', handler: (ctx: FlowContext) => ctx.sleep('s', '2h') }] });
    const { runId } = await gotick.trigger('slow', undefined, { timeout: '1h' });
    await gotick.runUntilIdle();
    const started = Date.parse((await gotick.getRun(runId))!.startedAt!);
    const run = await gotick.waitForRun(runId, { timeout: '3h' });
    expect(run.status).toBe('failed');
    expect(run.error!.name).toBe('FlowTimeoutError');
    expect(Date.parse(run.finishedAt!) - started).toBe(3_600_000);
  });
});
