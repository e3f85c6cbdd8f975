import { NotSerializableError, UnknownFlowError, type FlowContext } from '../../lib/engine';
import { slotRunId } from '../../lib/engine/schedules/schedule-spec';
import { createTestEngine, type GoTickTestHarness } from '../../lib/testing';

/** Child mocks, schedules and concurrency caps on the memory backend and its virtual clock. */
describe('testing kit: mockChild, schedules and concurrency on memory', () => {
  let gotick: GoTickTestHarness | undefined;
  afterEach(async () => {
    await gotick?.close();
    gotick = undefined;
  });

  describe('mockChild', () => {
    const kidBodies: unknown[] = [];
    const flows = [
      { id: 'kid/charge', handler: async (ctx: FlowContext<{ cents: number }>) => (kidBodies.push(ctx.input), { charged: ctx.input.cents, real: true }) },
      {
        id: 'parent/order',
        handler: async (ctx: FlowContext) => {
          const charge = await ctx.child<{ charged: number }>('charge', 'kid/charge', { cents: 500 });
          await ctx.sleep('cool-off', '2d');
          const receipt = await ctx.startChild('receipt', 'kid/charge', { cents: 0 });
          return { charge, receipt };
        },
      },
    ];
    beforeEach(() => (kidBodies.length = 0));

    it('ctx.child gets the mocked output and ctx.startChild a run id, the child flow never runs, and the steps read as real children across a replay', async () => {
      gotick = await createTestEngine({ flows });
      gotick.mockChild('kid/charge', { charged: 1, mocked: true });
      const { runId } = await gotick.trigger('parent/order');
      await gotick.runUntilIdle();
      expect((await gotick.getRun(runId))!.status).toBe('sleeping');
      await gotick.advance('2d');
      const run = await gotick.waitForRun<unknown, { charge: unknown; receipt: string }>(runId);
      expect(run).toMatchObject({ status: 'completed', output: { charge: { charged: 1, mocked: true }, receipt: expect.any(String) }, executions: 3 });
      expect(kidBodies).toEqual([]);
      expect((await gotick.history(runId)).map((s) => [s.key, s.kind, s.status])).toEqual([
        ['charge', 'child', 'completed'],
        ['cool-off', 'sleep', 'completed'],
        ['receipt', 'child', 'completed'],
      ]);
      const children = (await gotick.listRuns({ parentRunId: runId })).runs;
      expect(children.map((c) => [c.runId, c.status, c.executions])).toEqual([
        [run.output!.receipt, 'completed', 0],
        [run.steps[0].childRunId, 'completed', 0],
      ]);
      expect((await gotick.getRun(run.steps[0].childRunId!))!.output).toEqual({ charged: 1, mocked: true });
    });

    it('clearMocks lets the child flow run again; a directly triggered run of a mocked flow runs for real', async () => {
      gotick = await createTestEngine({ flows });
      gotick.mockChild('kid/charge', 'mocked');
      const direct = await gotick.waitForRun((await gotick.trigger('kid/charge', { cents: 7 })).runId);
      expect(direct.output).toEqual({ charged: 7, real: true });
      gotick.clearMocks();
      const { runId } = await gotick.trigger('parent/order');
      const run = await gotick.waitForRun<unknown, { charge: unknown }>(runId, { timeout: '3d' });
      expect(run.output!.charge).toEqual({ charged: 500, real: true });
      expect(kidBodies).toEqual([{ cents: 7 }, { cents: 500 }, { cents: 0 }]);
    });

    it('refuses an unknown flow (UnknownFlowError) and an output that cannot be stored (NotSerializableError)', async () => {
      gotick = await createTestEngine({ flows });
      expect(() => gotick!.mockChild('kid/nope', 1)).toThrow(UnknownFlowError);
      expect(() => gotick!.mockChild('kid/charge', 10n)).toThrow(NotSerializableError);
    });
  });

  describe('schedules on the virtual clock', () => {
    it('a daily cron fires each slot at its own time, in time order with the runs\' own timers, one run per slot', async () => {
      const events: string[] = [];
      gotick = await createTestEngine({
        startAt: new Date('2025-01-01T00:00:00Z'),
        flows: [
          {
            id: 'daily/report',
            options: { schedule: { cron: '0 6 * * *', tz: 'UTC' } },
            handler: async (ctx: FlowContext) => {
              await ctx.task('start', () => void events.push(`start ${new Date(gotick!.now()).toISOString()}`));
              await ctx.sleep('digest', '20h');
              await ctx.task('end', () => void events.push(`end ${new Date(gotick!.now()).toISOString()}`));
            },
          },
        ],
      });
      await gotick.advance('3d');
      expect(events).toEqual([
        'start 2025-01-01T06:00:00.000Z',
        'end 2025-01-02T02:00:00.000Z',
        'start 2025-01-02T06:00:00.000Z',
        'end 2025-01-03T02:00:00.000Z',
        'start 2025-01-03T06:00:00.000Z',
      ]);
      const runs = (await gotick.listRuns({ flowId: 'daily/report' })).runs;
      expect(runs.map((r) => [r.runId, r.slotAt])).toEqual(
        ['2025-01-03', '2025-01-02', '2025-01-01'].map((day) => [slotRunId('daily/report', Date.parse(`${day}T06:00:00Z`)), `${day}T06:00:00.000Z`]),
      );
      const [schedule] = await gotick.listSchedules();
      expect(schedule).toMatchObject({ scheduleId: 'daily/report', source: 'code', nextAt: '2025-01-04T06:00:00.000Z', skipped: 0 });
    });

    it('schedule() at run time fires on advance; unschedule stops it', async () => {
      gotick = await createTestEngine({ startAt: 0, flows: [{ id: 'tick', handler: async () => 'ok' }] });
      await gotick.schedule('every-minute', 'tick', { every: '1m' });
      await gotick.advance('5m');
      expect((await gotick.listRuns({ flowId: 'tick' })).runs.map((r) => r.slotAt)).toEqual(
        [5, 4, 3, 2, 1, 0].map((m) => new Date(m * 60_000).toISOString()),
      );
      expect(await gotick.unschedule('every-minute')).toBe(true);
      await gotick.advance('5m');
      expect((await gotick.listRuns({ flowId: 'tick' })).runs).toHaveLength(6);
    });
  });

  it('the README snippet: a mocked child and a week of nightly slots', async () => {
    gotick = await createTestEngine({
      flows: [
        { id: 'payments/charge', handler: async () => ({ chargeId: 'real' }) },
        { id: 'reports/daily', handler: async (ctx: FlowContext) => ctx.child('charge', 'payments/charge') },
      ],
    });
    gotick.mockChild('payments/charge', { chargeId: 'ch_1' });
    await gotick.schedule('nightly', 'reports/daily', { cron: '0 2 * * *', tz: 'UTC' });
    await gotick.advance('7d');
    const { runs } = await gotick.listRuns({ flowId: 'reports/daily' });
    expect(runs).toHaveLength(7);
    expect(await Promise.all(runs.map(async (run) => (await gotick!.getRun(run.runId))!.output))).toEqual(Array(7).fill({ chargeId: 'ch_1' }));
  });

  describe('concurrency caps', () => {
    for (const [name, startAt] of [
      ['a year behind', Date.now() - 365 * 86_400_000],
      ['a year ahead of', Date.now() + 365 * 86_400_000],
    ] as const) {
      it(`hand a freed slot over at once with the virtual clock ${name} the wall clock`, async () => {
        let inside = 0;
        let peak = 0;
        gotick = await createTestEngine({
          startAt,
          flows: [
            {
              id: 'capped',
              options: { concurrency: 1 },
              handler: async (ctx: FlowContext) =>
                ctx.task('work', async () => {
                  peak = Math.max(peak, ++inside);
                  await new Promise((resolve) => setImmediate(resolve));
                  inside--;
                }),
            },
          ],
        });
        const runs = await Promise.all([1, 2, 3, 4].map(() => gotick!.trigger('capped')));
        await gotick.runUntilIdle();
        const statuses = await Promise.all(runs.map(async ({ runId }) => (await gotick!.getRun(runId))!.status));
        expect(statuses).toEqual(['completed', 'completed', 'completed', 'completed']);
        expect(peak).toBe(1);
      });
    }

    it('a capped run that sleeps gives its slot back while it sleeps, and waits for one again when it wakes', async () => {
      const order: string[] = [];
      gotick = await createTestEngine({
        flows: [
          {
            id: 'sleepy',
            options: { concurrency: 1 },
            handler: async (ctx: FlowContext<string>) => {
              await ctx.task('before', () => void order.push(`${ctx.input} before`));
              if (ctx.input === 'a') await ctx.sleep('nap', '1h');
              await ctx.task('after', () => void order.push(`${ctx.input} after`));
            },
          },
        ],
      });
      await gotick.trigger('sleepy', 'a');
      await gotick.runUntilIdle();
      await gotick.trigger('sleepy', 'b');
      await gotick.advance('2h');
      expect(order).toEqual(['a before', 'b before', 'b after', 'a after']);
    });
  });
});
