import { Queue } from 'bullmq';
import { InvalidScheduleError, UnknownFlowError, type FlowContext, type FlowDefinition, type GoTickEngine } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

const env = useEngines();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A flow that counts its executions per run (a slot run twice would show as a count of 2). */
function countingFlow(id: string, executions: Map<string, number>): FlowDefinition {
  return { id, handler: async (ctx: FlowContext) => void executions.set(ctx.runId, (executions.get(ctx.runId) ?? 0) + 1) };
}

async function scheduledRuns(engine: GoTickEngine, flowId: string) {
  const { runs } = await engine.listRuns({ flowId, limit: 200 });
  return runs.filter((run) => run.scheduleId !== undefined).sort((a, b) => Date.parse(a.slotAt!) - Date.parse(b.slotAt!));
}

describe('schedules', () => {
  it('three nodes, every 1s for 10 s: each slot starts exactly one run, no slot twice, none lost', async () => {
    const executions = new Map<string, number>();
    const fired = [0, 0, 0];
    const prefix = `sch3n${process.pid}`;
    const nodes = await Promise.all(
      fired.map((_, i) =>
        env.harness.start([countingFlow('tick/every', executions)], {
          prefix,
          logLevel: 'debug',
          // Which node started each slot's run: the debug line of the node that fired it.
          logger: { log: () => undefined, warn: () => undefined, error: () => undefined, debug: (line) => void (/ started run /.test(line) && fired[i]++) },
        }),
      ),
    );
    await nodes[0].schedule('every-second', 'tick/every', { every: '1s', overlap: 'allow' });
    await pause(10_000);
    await nodes[1].unschedule('every-second');
    await waitUntil(async () => (await scheduledRuns(nodes[2], 'tick/every')).every((run) => run.status === 'completed'), 'the last runs to finish');

    const runs = await scheduledRuns(nodes[2], 'tick/every');
    const slots = runs.map((run) => Date.parse(run.slotAt!));
    const gaps = slots.slice(1).map((slot, i) => slot - slots[i]);
    // eslint-disable-next-line no-console
    console.log(`3 nodes, every 1s, 10 s: ${runs.length} runs, fired by node ${fired.join('/')}, executions per run ${[...new Set(executions.values())]}`);
    expect(runs.length).toBeGreaterThanOrEqual(9);
    expect(new Set(slots).size).toBe(slots.length); // no slot twice
    expect(gaps.every((gap) => gap === 1000)).toBe(true); // no slot lost between the first and the last
    expect(slots.every((slot) => slot % 1000 === 0)).toBe(true); // on whole seconds, whoever created the schedule
    expect(runs.every((run) => executions.get(run.runId) === 1)).toBe(true);
    expect(fired.reduce((a, b) => a + b, 0)).toBe(runs.length);
  }, 40_000);

  it('a slot delivered many times, to three nodes at once, starts one run (300 deliveries of 100 slots)', async () => {
    const executions = new Map<string, number>();
    const prefix = `schdup${process.pid}`;
    const nodes = await Promise.all([0, 1, 2].map(() => env.harness.start([countingFlow('tick/dup', executions)], { prefix })));
    // The schedule's own slot is 100 days out; the deliveries below stand for slots of its past,
    // each job a repeat (a job retried after its node died, or taken again after a stall).
    await nodes[0].schedule('dup', 'tick/dup', { every: '100d', overlap: 'allow' });
    const queue = new Queue('schedules', { connection: { url: env.redis.url }, prefix });
    const entry = { scheduleId: 'dup', flowId: 'tick/dup', spec: JSON.stringify({ every: '100d', overlap: 'allow' }), input: '', overlap: 'allow', source: 'runtime' };
    const now = Date.now();
    const jobs = Array.from({ length: 100 }, (_, slot) => [0, 1, 2].map((copy) => ({ name: 'slot', data: entry, opts: { jobId: `copy${copy}-${slot}`, timestamp: now - (slot + 1) * 1000 } }))).flat();
    await queue.addBulk(jobs);
    await waitUntil(async () => (await queue.getJobCounts('wait', 'active')).wait + (await queue.getJobCounts('wait', 'active')).active === 0, 'every delivery taken', 30_000);
    await waitUntil(async () => (await scheduledRuns(nodes[0], 'tick/dup')).filter((run) => run.status === 'completed').length === 100, '100 runs completed', 30_000);
    await queue.close();
    const runs = await scheduledRuns(nodes[0], 'tick/dup');
    expect(runs).toHaveLength(100);
    expect(new Set(runs.map((run) => run.slotAt)).size).toBe(100);
    expect([...executions.values()].every((count) => count === 1)).toBe(true);
    expect(executions.size).toBe(100);
  }, 60_000);

  it("overlap 'skip' (default) skips and counts slots while the previous run is live; 'allow' starts them", async () => {
    const waiter: FlowDefinition = { id: 'tick/waits', handler: (ctx: FlowContext) => ctx.waitForSignal('go', 'go') };
    const engine = await env.harness.start([waiter]);
    await engine.schedule('skipping', 'tick/waits', { every: '1s' });
    const first = await waitUntil(async () => (await scheduledRuns(engine, 'tick/waits'))[0], 'the first run');
    await waitUntil(async () => (await engine.listSchedules())[0].skipped >= 3, 'three skipped slots', 10_000);
    expect(await scheduledRuns(engine, 'tick/waits')).toHaveLength(1);
    const [view] = await engine.listSchedules();
    expect(view).toMatchObject({ scheduleId: 'skipping', lastRun: { runId: first.runId, slotAt: first.slotAt } });
    expect(Date.parse(view.lastSkippedAt!)).toBeGreaterThan(Date.parse(first.slotAt!));
    // Once the run ends, the next slot starts a new one.
    await engine.signal(first.runId, 'go');
    await waitUntil(async () => (await scheduledRuns(engine, 'tick/waits')).length === 2, 'a second run after the first ended', 5000);
    await engine.unschedule('skipping');

    await engine.schedule('allowing', 'tick/waits', { every: '1s', overlap: 'allow' });
    await waitUntil(async () => (await scheduledRuns(engine, 'tick/waits')).filter((run) => run.scheduleId === 'allowing' && run.status === 'sleeping').length >= 3, 'three live runs at once', 10_000);
    const allowing = (await engine.listSchedules()).find((s) => s.scheduleId === 'allowing')!;
    expect(allowing.skipped).toBe(0);
    await engine.unschedule('allowing');
  }, 40_000);

  it('after every node was down for several slots, only the latest missed slot fires, once, then the cadence resumes', async () => {
    const executions = new Map<string, number>();
    const prefix = `schdown${process.pid}`;
    const first = await env.harness.start([countingFlow('tick/down', executions)], { prefix });
    await first.schedule('through-outage', 'tick/down', { every: '1s', overlap: 'allow' });
    await waitUntil(async () => (await scheduledRuns(first, 'tick/down')).length >= 2, 'two runs before the outage');
    await first.close();
    const downAt = Date.now();
    await pause(4500);
    const backAt = Date.now();
    const second = await env.harness.start([countingFlow('tick/down', executions)], { prefix });
    await waitUntil(async () => (await scheduledRuns(second, 'tick/down')).some((run) => Date.parse(run.slotAt!) > backAt + 1000), 'slots after the return');
    await second.unschedule('through-outage');

    const runs = await scheduledRuns(second, 'tick/down');
    const slots = runs.map((run) => Date.parse(run.slotAt!));
    const lastBefore = Math.max(...slots.filter((slot) => slot <= downAt));
    // The first run created after the return stands for the whole outage.
    const back = runs.filter((run) => Date.parse(run.createdAt) >= backAt).sort((x, y) => Date.parse(x.createdAt) - Date.parse(y.createdAt))[0];
    const backSlot = Date.parse(back.slotAt!);
    const missed = slots.filter((slot) => slot > lastBefore && slot < backSlot);
    // eslint-disable-next-line no-console
    console.log(`outage of ${backAt - downAt} ms: ${(backSlot - lastBefore) / 1000} slots due, one run on return, for ${back.slotAt} (created ${back.createdAt})`);
    expect((backSlot - lastBefore) / 1000).toBeGreaterThanOrEqual(4); // several slots were due while every node was down
    expect(missed).toEqual([]); // none of the earlier missed slots started a run
    // It is the latest slot due when it fired, not the first missed one.
    expect(backSlot).toBeLessThanOrEqual(Date.parse(back.createdAt));
    expect(backSlot).toBeGreaterThan(Date.parse(back.createdAt) - 1000);
    const after = slots.filter((slot) => slot > backSlot);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((slot, i) => slot - (i === 0 ? backSlot : after[i - 1]) === 1000)).toBe(true);
    expect([...executions.values()].every((count) => count === 1)).toBe(true);
  }, 40_000);

  it('a bad cron, time zone or interval rejects the call with InvalidScheduleError naming it', async () => {
    const engine = await env.harness.start([countingFlow('tick/bad', new Map())]);
    const refused = (spec: unknown) => engine.schedule('bad', 'tick/bad', spec as never);
    await expect(refused({ cron: '61 * * * *' })).rejects.toThrow(new InvalidScheduleError('bad', 'cron "61 * * * *" does not parse: Constraint error, got value 61 expected range 0-59.'));
    await expect(refused({ cron: '0 6 * * *', tz: 'Mars/Olympus' })).rejects.toThrow(/time zone "Mars\/Olympus" is not an IANA zone name/);
    await expect(refused({ every: '500ms' })).rejects.toThrow(/every must be at least 1s; got "500ms"/);
    await expect(refused({ every: 'soon' })).rejects.toThrow(/Invalid every "soon"/);
    await expect(refused({ cron: '* * * * *', every: '1m' })).rejects.toThrow(/exactly one of cron and every/);
    await expect(refused({ cron: '* * * * *', timezone: 'UTC' })).rejects.toThrow(/unknown field\(s\) "timezone"/);
    await expect(refused({ cron: '* * * * *', overlap: 'queue' })).rejects.toThrow(/overlap must be 'skip' or 'allow'/);
    await expect(engine.schedule('bad id', 'tick/bad', { every: '1m' })).rejects.toThrow(InvalidScheduleError);
    await expect(engine.schedule('x', 'tick/nope', { every: '1m' })).rejects.toThrow(UnknownFlowError);
    expect(await engine.listSchedules()).toEqual([]);
  });

  it('a bad schedule in a flow definition fails at register, naming the flow', async () => {
    const { GoTickEngine } = await import('../../lib/engine');
    const engine = new GoTickEngine({ connection: env.redis.url });
    expect(() => engine.register({ id: 'reports/nightly', options: { schedule: '0 25 * * *' }, handler: () => undefined })).toThrow(
      /Invalid schedule "reports\/nightly": cron "0 25 \* \* \*" does not parse/,
    );
    expect(() => engine.register({ id: 'reports/two', options: { schedule: [{ id: 'same', every: '1h' }, { id: 'same', every: '2h' }] }, handler: () => undefined })).toThrow(
      /Invalid schedule "same": flow "reports\/two" declares it twice/,
    );
    engine.register({ id: 'a', options: { schedule: { id: 'shared', every: '1h' } }, handler: () => undefined });
    expect(() => engine.register({ id: 'b', options: { schedule: { id: 'shared', every: '1h' } }, handler: () => undefined })).toThrow(/declared by flow "a" and by flow "b"/);
  });

  it('unschedule removes the schedule and its pending slot; a second unschedule answers false', async () => {
    const executions = new Map<string, number>();
    const engine = await env.harness.start([countingFlow('tick/stop', executions)]);
    await engine.schedule('stop-me', 'tick/stop', { every: '1s' });
    await waitUntil(() => executions.size >= 1, 'a first run');
    expect(await engine.unschedule('stop-me')).toBe(true);
    const count = (await scheduledRuns(engine, 'tick/stop')).length;
    expect(await engine.listSchedules()).toEqual([]);
    // Three slots' worth of time: a slot still planned would have started a run.
    await pause(3000);
    expect((await scheduledRuns(engine, 'tick/stop')).length).toBe(count);
    expect(await engine.unschedule('stop-me')).toBe(false);
  }, 20_000);

  it('code schedules: every replica upserts at boot without replanning the pending slot; one removed from code is removed at the next boot', async () => {
    const prefix = `schcode${process.pid}`;
    const flow = (schedule: NonNullable<FlowDefinition['options']>['schedule']): FlowDefinition => ({ id: 'reports/daily', options: { schedule }, handler: () => 'ok' });
    const both = [{ id: 'morning', cron: '0 6 * * *', tz: 'Europe/Berlin', input: { kind: 'morning' } }, { id: 'evening', cron: '0 18 * * *' }];
    const a = await env.harness.start([flow(both)], { prefix, worker: false });
    await a.schedule('by-hand', 'reports/daily', { every: '1d' });
    const queue = new Queue('schedules', { connection: { url: env.redis.url }, prefix });
    const pending = async () => {
      const scheduler = await queue.getJobScheduler('morning');
      const job = await queue.getJob(`repeat:morning:${scheduler!.next}`);
      return { next: scheduler!.next, jobTimestamp: job!.timestamp };
    };
    const before = await pending();
    expect((await a.listSchedules()).map((s) => [s.scheduleId, s.source])).toEqual([['by-hand', 'runtime'], ['evening', 'code'], ['morning', 'code']]);
    const morning = (await a.listSchedules()).find((s) => s.scheduleId === 'morning')!;
    expect(morning.spec).toEqual({ cron: '0 6 * * *', tz: 'Europe/Berlin', input: { kind: 'morning' } });
    // DST-safe through the zone: the next slot is 06:00 in Berlin, whatever the UTC offset is that day.
    const berlinHour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(morning.nextAt!));
    expect(berlinHour).toBe('06:00');

    await pause(5); // a replanned job would get a later timestamp
    await Promise.all([0, 1].map(() => env.harness.start([flow(both)], { prefix, worker: false })));
    expect(await pending()).toEqual(before);

    // The next deploy drops "evening" from the code; the runtime schedule stays.
    await env.harness.closeAll();
    const b = await env.harness.start([flow([both[0]])], { prefix, worker: false });
    expect((await b.listSchedules()).map((s) => s.scheduleId)).toEqual(['by-hand', 'morning']);
    expect(await pending()).toEqual(before);
    // A changed spec is replanned at boot.
    await env.harness.closeAll();
    const c = await env.harness.start([flow([{ ...both[0], cron: '30 7 * * *' }])], { prefix, worker: false });
    expect((await c.listSchedules()).find((s) => s.scheduleId === 'morning')!.spec).toMatchObject({ cron: '30 7 * * *' });
    expect((await pending()).next).not.toBe(before.next);
    await queue.close();
  });
});
