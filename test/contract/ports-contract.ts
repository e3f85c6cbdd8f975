import { CancelRequestedError, LeaseLostError } from '../../lib/engine/errors';
import { slotGroup } from '../../lib/engine/concurrency';
import type { ConcurrencySlots, MailboxStore, RetryStore, RunStore, ScheduleStore, SignalWaitRecords, StepRecord } from '../../lib/engine/ports';

/** The store ports of one backend, with a clock to read and a way to let time pass. */
export interface PortsEnv {
  store: RunStore;
  mailbox: MailboxStore;
  retries: RetryStore;
  /** Concurrency slots on the same data. */
  slots: ConcurrencySlots;
  /** What schedules did (a fresh prefix per env). */
  schedules: ScheduleStore;
  /** A store on the same data whose finished runs expire after 300 ms. */
  shortRetention: RunStore;
  now(): number;
  /** Lets `ms` pass: waiting on Redis, moving the virtual clock on memory. */
  pass(ms: number): Promise<void>;
}

const LEASE = 200;
let seq = 0;
const newRun = (env: PortsEnv, extra: { timeoutMs?: number; request?: string; input?: string } = {}) => {
  const runId = `p${process.pid}-${++seq}`;
  const now = env.now();
  return { runId, flowId: 'ports/flow', createdAt: now, dueAt: now, ...extra };
};
const step = (status: StepRecord['status'], extra: Partial<StepRecord> = {}): StepRecord => ({ kind: 'task', status, attempts: 1, seq: 0, ...extra });
const records = (name: string): SignalWaitRecords => ({
  received: { before: '["n","c",1,0,1,0,', after: ']' },
  timedOut: '["n","c",1,0,1,0,"null"]',
  waiting: `["n","w",0,0,0,0,0,0,0,0,"${name}"]`,
});

/**
 * The ports, one script at a time, on a backend: the same replies, fences
 * and errors from the memory backend as from the Lua scripts on Redis.
 */
export function portsContract(env: () => PortsEnv): void {
  it('create is idempotent per run id (createMany too, a repeated id created once)', async () => {
    const { store } = env();
    const run = newRun(env(), { input: '{"a":1}' });
    expect(await store.create(run)).toBe(true);
    expect(await store.create({ ...run, input: '{"a":2}' })).toBe(false);
    expect((await store.get(run.runId))!.run).toMatchObject({ status: 'queued', executions: 0, input: '{"a":1}' });
    const other = newRun(env());
    expect(await store.createMany([other, other, run])).toEqual([true, false, false]);
  });

  it('create keeps the trigger\'s traceparent (createMany too); recordTrace writes only for the lease holder', async () => {
    const { store } = env();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const run = newRun(env());
    await store.create({ ...run, traceparent });
    const batch = newRun(env());
    await store.createMany([{ ...batch, traceparent }]);
    expect((await store.get(run.runId))!.run.traceparent).toBe(traceparent);
    expect((await store.get(batch.runId))!.run.traceparent).toBe(traceparent);

    await store.claim(run.runId, 'a', LEASE);
    await store.recordTrace(run.runId, 'a', '00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01');
    await store.recordTrace(run.runId, 'not-the-holder', '00-4bf92f3577b34da6a3ce929d0e0e4736-2222222222222222-01');
    await store.recordTrace('no-such-run', 'a', '00-4bf92f3577b34da6a3ce929d0e0e4736-3333333333333333-01');
    expect((await store.get(run.runId))!.run.lastTrace).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01');
    expect(await store.get('no-such-run')).toBeNull();
  });

  it('claim: missing, claimed (counted once per token), busy for another token, taken over once the lease lapsed', async () => {
    const { store } = env();
    expect(await store.claim('no-such-run', 'a', LEASE)).toEqual({ kind: 'missing' });
    const run = newRun(env());
    await store.create(run);
    const first = await store.claim(run.runId, 'a', LEASE);
    expect(first).toMatchObject({ kind: 'claimed', run: { status: 'running', executions: 1 }, takeover: false });
    expect(await store.claim(run.runId, 'a', LEASE)).toMatchObject({ kind: 'claimed', run: { executions: 1 } });
    const busy = await store.claim(run.runId, 'b', LEASE);
    expect(busy.kind).toBe('busy');
    expect((busy as { retryInMs: number }).retryInMs).toBeGreaterThan(0);
    expect((busy as { retryInMs: number }).retryInMs).toBeLessThanOrEqual(LEASE);
    await env().pass(LEASE + 100);
    expect(await store.claim(run.runId, 'b', LEASE)).toMatchObject({ kind: 'claimed', run: { executions: 2 }, takeover: true });
    await expect(store.saveSteps(run.runId, 'a', [['late', step('completed')]])).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.touch(run.runId, 'a', LEASE)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.finish(run.runId, 'a', { status: 'completed' }, [])).rejects.toBeInstanceOf(LeaseLostError);
    await store.saveSteps(run.runId, 'b', [['mine', step('completed', { result: '"b"', finishedAt: 5 })]]);
    const state = (await store.get(run.runId))!;
    expect([...state.steps.keys()]).toEqual(['mine']);
    expect(state.steps.get('mine')).toEqual(step('completed', { result: '"b"', finishedAt: 5 }));
  });

  it('a trigger\'s job for a run another trigger started is spare; its own job and jobs of a queued run go on', async () => {
    const { store } = env();
    const run = newRun(env(), { request: 'req-1' });
    await store.create(run);
    expect((await store.claim(run.runId, 'a', LEASE, 'req-2')).kind).toBe('claimed');
    await store.release(run.runId, 'a', 'job-1');
    expect((await store.claim(run.runId, 'b', LEASE, 'req-1')).kind).toBe('claimed');
    await store.suspend(run.runId, 'b', env().now() + 1000, 'job-2', []);
    expect(await store.claim(run.runId, 'c', LEASE, 'req-2')).toEqual({ kind: 'spare' });
    expect((await store.claim(run.runId, 'c', LEASE, 'req-1')).kind).toBe('claimed');
  });

  it('a cancel request fences every write but the cancelled ending; a finished run claims as finished', async () => {
    const { store } = env();
    const run = newRun(env());
    await store.create(run);
    await store.claim(run.runId, 'a', LEASE);
    const error = { name: 'RunCancelledError', message: 'cancelled' };
    expect(await store.cancel(run.runId, 'first', error)).toEqual({ kind: 'requested', reason: 'first' });
    expect(await store.cancel(run.runId, 'second', error)).toEqual({ kind: 'requested', reason: 'first' });
    await expect(store.saveSteps(run.runId, 'a', [['s', step('completed')]])).rejects.toMatchObject({ constructor: CancelRequestedError, reason: 'first' });
    await expect(store.touch(run.runId, 'a', LEASE)).rejects.toBeInstanceOf(CancelRequestedError);
    await expect(store.suspend(run.runId, 'a', env().now() + 1000, 'j', [])).rejects.toBeInstanceOf(CancelRequestedError);
    await expect(store.finish(run.runId, 'a', { status: 'completed' }, [])).rejects.toBeInstanceOf(CancelRequestedError);
    await store.finish(run.runId, 'a', { status: 'cancelled', error }, []);
    expect(await store.status(run.runId)).toBe('cancelled');
    expect(await store.claim(run.runId, 'b', LEASE)).toEqual({ kind: 'finished', status: 'cancelled' });
    expect(await store.cancel(run.runId, '', error)).toEqual({ kind: 'finished', status: 'cancelled' });
  });

  it('cancel of a parked run ends it at once and hands back its flow and input; claim after a node died with a request pending says stop', async () => {
    const { store } = env();
    const parked = newRun(env(), { input: '{"x":1}' });
    await store.create(parked);
    const error = { name: 'RunCancelledError', message: 'cancelled' };
    expect(await store.cancel(parked.runId, 'r', error)).toEqual({ kind: 'cancelled', flowId: 'ports/flow', input: '{"x":1}' });
    expect((await store.get(parked.runId))!.run).toMatchObject({ status: 'cancelled', error, cancelRequested: 'r' });
    const orphan = newRun(env());
    await store.create(orphan);
    await store.claim(orphan.runId, 'dead', LEASE);
    await store.cancel(orphan.runId, 'late', error);
    await env().pass(LEASE + 100);
    expect(await store.claim(orphan.runId, 'b', LEASE)).toMatchObject({ kind: 'claimed', stop: 'cancelled', run: { cancelRequested: 'late' } });
  });

  it('suspend parks the run and gives the lease up; release and handBack queue it again for anyone', async () => {
    const { store } = env();
    const run = newRun(env());
    await store.create(run);
    await store.claim(run.runId, 'a', LEASE);
    const wakeAt = env().now() + 60_000;
    await store.suspend(run.runId, 'a', wakeAt, 'job-1', [['nap', step('sleeping', { kind: 'sleep', wakeAt })]]);
    expect((await store.get(run.runId))!.run).toMatchObject({ status: 'sleeping', wakeAt });
    expect(await store.timerState(run.runId)).toMatchObject({ status: 'sleeping', wakeAt, resumeJob: 'job-1' });
    await expect(store.saveSteps(run.runId, 'a', [])).rejects.toBeInstanceOf(LeaseLostError);
    const again = await store.claim(run.runId, 'b', LEASE);
    expect(again).toMatchObject({ kind: 'claimed', run: { status: 'running', executions: 2 } });
    expect((again as { run: { wakeAt?: number } }).run.wakeAt).toBeUndefined();
    await store.release(run.runId, 'b', 'job-2', [['nap', null]]);
    expect((await store.get(run.runId))!).toMatchObject({ run: { status: 'queued' }, steps: new Map() });
    expect((await store.claim(run.runId, 'c', LEASE)).kind).toBe('claimed');
    const first = await store.handBack(run.runId, 'c', env().now() + 5000, 'job-3');
    expect(first.first).toBe(true);
    await store.claim(run.runId, 'd', LEASE);
    const second = await store.handBack(run.runId, 'd', env().now() + 5000, 'job-4');
    expect(second).toEqual({ first: false, since: first.since });
    // Hand-backs uncount their claims: two real executions, not four.
    expect((await store.get(run.runId))!.run).toMatchObject({ status: 'queued', executions: 2, unknownFlowSince: first.since });
    await store.forgetUnknownFlow(run.runId);
    expect((await store.get(run.runId))!.run.unknownFlowSince).toBeUndefined();
    await expect(store.handBack(run.runId, 'd', 0, 'j')).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('a whole-run deadline is fixed by the first claim; a claim past it says stop: timeout', async () => {
    const { store } = env();
    const run = newRun(env(), { timeoutMs: 150 });
    await store.create(run);
    const claimed = await store.claim(run.runId, 'a', LEASE);
    const deadline = (claimed as { run: { deadline: number } }).run.deadline;
    expect(deadline).toBe((claimed as { run: { startedAt: number } }).run.startedAt + 150);
    await store.suspend(run.runId, 'a', env().now() + 10_000, 'job', []);
    await env().pass(200);
    expect(await store.claim(run.runId, 'b', LEASE)).toMatchObject({ kind: 'claimed', stop: 'timeout', run: { deadline } });
  });

  it('mailbox: FIFO per name, timed out only with none held, waiting marks the run so a signal wakes it, full and finished refused', async () => {
    const { store, mailbox } = env();
    expect(await mailbox.send('no-such-run', 'go', '"x"', 10)).toEqual({ kind: 'missing' });
    const run = newRun(env());
    await store.create(run);
    await store.claim(run.runId, 'a', LEASE);
    expect(await mailbox.send(run.runId, 'go', '"one"', 3)).toEqual({ kind: 'stored', wake: false });
    expect(await mailbox.send(run.runId, 'go', '"two"', 3)).toEqual({ kind: 'stored', wake: false });
    expect(await mailbox.holdsAny(run.runId, ['other', 'go'])).toBe(true);
    const now = env().now();
    const take = (key: string, timeoutAt?: number) => mailbox.take(run.runId, 'a', { stepKey: key, name: 'go', now: env().now(), timeoutAt, records: records('go') }, []);
    expect(await take('w1', now)).toEqual({ kind: 'received', signal: '"one"' });
    expect(await take('w2', now)).toEqual({ kind: 'received', signal: '"two"' });
    expect(await mailbox.holdsAny(run.runId, ['go'])).toBe(false);
    expect(await take('w3', now)).toEqual({ kind: 'timed-out' });
    expect(await take('w4')).toEqual({ kind: 'waiting' });
    const steps = (await store.get(run.runId))!.steps;
    expect(steps.get('w1')).toMatchObject({ kind: 'signal', status: 'completed', result: '"one"' });
    expect(steps.get('w4')).toMatchObject({ status: 'waiting', waitingFor: 'go' });
    await expect(mailbox.take(run.runId, 'b', { stepKey: 'x', name: 'go', now, records: records('go') }, [])).rejects.toBeInstanceOf(LeaseLostError);
    await store.suspend(run.runId, 'a', now + 60_000, 'job', []);
    expect(await mailbox.send(run.runId, 'other', '1', 3)).toEqual({ kind: 'stored', wake: false });
    expect(await mailbox.send(run.runId, 'go', '"three"', 3)).toEqual({ kind: 'stored', wake: true });
    expect(await mailbox.send(run.runId, 'go', '"four"', 2)).toEqual({ kind: 'full' });
    await store.claim(run.runId, 'c', LEASE);
    await store.finish(run.runId, 'c', { status: 'completed' }, []);
    expect(await mailbox.send(run.runId, 'go', '"late"', 10)).toEqual({ kind: 'finished', status: 'completed' });
  });

  it('retry: failed steps start over, completed ones stay, the error moves to previousErrors; only failed or cancelled runs', async () => {
    const { store, retries } = env();
    expect(await retries.retry('no-such-run', env().now())).toEqual({ kind: 'missing' });
    const run = newRun(env(), { timeoutMs: 10_000 });
    await store.create(run);
    await store.claim(run.runId, 'a', LEASE);
    expect(await retries.retry(run.runId, env().now())).toEqual({ kind: 'not-retriable', status: 'running' });
    const error = { name: 'StepFailedError', message: 'boom', stack: 'at x', stepKey: 'b' };
    await store.finish(run.runId, 'a', { status: 'failed', error }, [
      ['a', step('completed', { result: '1' })],
      ['b', step('failed', { seq: 1, attempts: 4 })],
    ]);
    expect(await retries.retry(run.runId, env().now())).toEqual({ kind: 'queued' });
    const { run: after, steps } = (await store.get(run.runId))!;
    expect([...steps.keys()]).toEqual(['a']);
    expect(after).toMatchObject({ status: 'queued', retries: 1 });
    expect(after.error).toBeUndefined();
    expect(after.deadline).toBeUndefined();
    expect(after.previousErrors).toEqual([{ name: 'StepFailedError', message: 'boom', stepKey: 'b', failedAt: expect.any(Number) }]);
    expect((await store.claim(run.runId, 'b', LEASE)).kind).toBe('claimed');
  });

  it('a finished run expires after the retention, and leaves listRuns with it', async () => {
    const { shortRetention: store } = env();
    const run = newRun(env());
    await store.create(run);
    await store.claim(run.runId, 'a', LEASE);
    await store.finish(run.runId, 'a', { status: 'completed', output: '"ok"' }, []);
    expect((await store.list({ flowIds: ['ports/flow'], limit: 200 })).runs.map((r) => r.runId)).toContain(run.runId);
    await env().pass(400);
    expect(await store.get(run.runId)).toBeNull();
    expect((await store.list({ flowIds: ['ports/flow'], limit: 200 })).runs.map((r) => r.runId)).not.toContain(run.runId);
  });

  it('child runs: created with their parent, the parent waiting named by a cancel; ending and listChildren read them', async () => {
    const { store } = env();
    const parent = newRun(env());
    await store.create(parent);
    const waited = newRun(env(), { input: '{"n":1}' });
    const fired = newRun(env());
    expect(await store.create({ ...waited, parent: { runId: parent.runId, stepKey: 'a', waits: true } })).toBe(true);
    expect(await store.create({ ...fired, parent: { runId: parent.runId, stepKey: 'b', waits: false } })).toBe(true);
    expect((await store.get(waited.runId))!.run).toMatchObject({ parentRunId: parent.runId, parentStepKey: 'a', wakeParent: true });
    expect((await store.get(fired.runId))!.run).toMatchObject({ parentRunId: parent.runId, parentStepKey: 'b' });
    expect((await store.get(fired.runId))!.run.wakeParent).toBeUndefined();

    expect(await store.ending('no-such-run')).toBeNull();
    expect(await store.ending(waited.runId)).toEqual({ status: 'queued' });
    const error = { name: 'RunCancelledError', message: 'stop' };
    expect(await store.cancel(waited.runId, 'stop', error)).toMatchObject({ kind: 'cancelled', wakeParent: parent.runId });
    expect(await store.cancel(fired.runId, 'stop', error)).toEqual({ kind: 'cancelled', flowId: 'ports/flow' });
    expect(await store.ending(waited.runId)).toEqual({ status: 'cancelled', error });

    // The parent's child steps name the children: newest (highest seq) first, paged by position.
    await store.claim(parent.runId, 'p', LEASE);
    await store.saveSteps(parent.runId, 'p', [
      ['a', { kind: 'child', status: 'waiting', attempts: 0, seq: 0, childRunId: waited.runId }],
      ['b', { kind: 'child', status: 'completed', attempts: 1, seq: 1, childRunId: fired.runId, result: JSON.stringify(fired.runId) }],
      ['c', step('completed', { seq: 2 })],
    ]);
    const page = await store.listChildren(parent.runId, { limit: 1 });
    expect(page.runs.map((r) => [r.runId, r.parentRunId])).toEqual([[fired.runId, parent.runId]]);
    const next = await store.listChildren(parent.runId, { limit: 1, cursor: page.nextCursor });
    expect(next).toEqual({ runs: [expect.objectContaining({ runId: waited.runId, status: 'cancelled' })] });
    expect((await store.listChildren(parent.runId, { limit: 10, status: 'queued' })).runs).toEqual([]);
    expect(await store.listChildren('no-such-run', { limit: 10 })).toEqual({ runs: [] });
  });

  describe('concurrency slots', () => {
    const group = () => slotGroup('ports/flow', `k${++seq}`).id;

    it('take: up to the limit, a resend keeps its slot, full past it; join lines runs up by place; free hands over to the head', async () => {
      const { slots } = env();
      const g = group();
      expect(await slots.take(g, 'a', 'ra', 2, 10_000, 'take', 1)).toBe('taken');
      expect(await slots.take(g, 'b', 'rb', 2, 10_000, 'take', 2)).toBe('taken');
      expect(await slots.take(g, 'a', 'ra', 2, 10_000, 'take', 1)).toBe('taken');
      expect(await slots.take(g, 'c', 'rc', 2, 10_000, 'take', 3)).toBe('full');
      expect(await slots.take(g, 'x', 'r5', 2, 10_000, 'join', 5)).toBe('lined-up');
      expect(await slots.take(g, 'x', 'r4', 2, 10_000, 'join', 4)).toBe('lined-up');
      expect(await slots.take(g, 'y', 'r4', 2, 10_000, 'join', 1)).toBe('lined-up'); // keeps its place
      const freed = await slots.free(g, 'a', '', 2, 10_000);
      expect(freed).toMatchObject({ handed: ['r4'], waiting: 1, handovers: ['r4'] });
      expect(freed.nextLapse).toBeGreaterThan(env().now());
      // The handed run's execution turns its hand-over into its slot; another run finds the group full.
      expect(await slots.take(g, 'tok4', 'r4', 2, 10_000, 'take', 4)).toBe('taken');
      expect(await slots.take(g, 'z', 'rz', 2, 10_000, 'take', 0)).toBe('full');
      expect(await slots.free(g, 'b', '', 2, 10_000)).toMatchObject({ handed: ['r5'], waiting: 0, handovers: ['r5'] });
      // A run leaving the group takes its hand-over with it, handing it on (nobody waits now).
      expect(await slots.free(g, '', 'r5', 2, 10_000)).toMatchObject({ handed: [], waiting: 0, handovers: [] });
      expect(await slots.take(g, 'x', 'r6', 2, 10_000, 'join', 6)).toBe('reserved');
    });

    it('a slot lapses a lease after its last renewal; a lapsed hand-over goes back to the head of the line', async () => {
      const { slots } = env();
      const g = group();
      expect(await slots.take(g, 'a', 'ra', 1, LEASE, 'take', 1)).toBe('taken');
      expect(await slots.extend(g, 'a', LEASE)).toBe(true);
      expect(await slots.take(g, 'x', 'r1', 1, LEASE, 'join', 1)).toBe('lined-up');
      await env().pass(LEASE + 100);
      // The lapsed slot is dropped by the next look at the group, which hands it on; its renewal then finds it gone.
      expect(await slots.free(g, '', '', 1, LEASE)).toMatchObject({ handed: ['r1'], waiting: 0 });
      expect(await slots.extend(g, 'a', LEASE)).toBe(false);
      expect(await slots.take(g, 'x', 'r2', 1, LEASE, 'join', 2)).toBe('lined-up');
      await env().pass(LEASE + 100);
      // r1's hand-over lapsed (its job lost): r1 goes back first, ahead of r2.
      expect(await slots.free(g, '', '', 1, LEASE)).toMatchObject({ handed: ['r1'], waiting: 1, handovers: ['r1'] });
      expect(await slots.take(g, 'late', 'r9', 1, LEASE, 'take', 9)).toBe('full');
    });

    it('park: a claimed run goes back to queued in its group, its claim uncounted; refused without the lease or with a cancel pending', async () => {
      const { store, slots } = env();
      const g = group();
      const run = newRun(env(), { timeoutMs: 60_000 });
      await store.create(run);
      await store.claim(run.runId, 'a', LEASE);
      await expect(slots.park(run.runId, 'b', g)).rejects.toBeInstanceOf(LeaseLostError);
      expect(await slots.park(run.runId, 'a', g)).toEqual({});
      expect((await store.get(run.runId))!.run).toMatchObject({ status: 'queued', executions: 0, slotGroup: g });
      expect((await store.get(run.runId))!.run.deadline).toBeUndefined();
      expect(await slots.runStatus(run.runId)).toBe('queued');
      expect(await slots.runStatus('no-such-run')).toBeNull();

      const cancelled = newRun(env());
      await store.create(cancelled);
      await store.claim(cancelled.runId, 'a', LEASE);
      await store.cancel(cancelled.runId, 'stop', { name: 'RunCancelledError', message: 'stop' });
      await expect(slots.park(cancelled.runId, 'a', g)).rejects.toBeInstanceOf(CancelRequestedError);
      // A finished run that waited in a group says which, so its execution takes it out of the line.
      const finished = newRun(env());
      await store.create(finished);
      await store.claim(finished.runId, 'a', LEASE);
      await slots.park(finished.runId, 'a', g);
      await store.cancel(finished.runId, 'stop', { name: 'RunCancelledError', message: 'stop' });
      expect(await store.claim(finished.runId, 'b', LEASE)).toEqual({ kind: 'finished', status: 'cancelled', slotGroup: g });
    });

    it('registry: watch keeps the earlier look, rewatch moves it, unwatch drops it', async () => {
      const { slots } = env();
      const g = group();
      const now = env().now();
      await slots.watch(g, now - 1000);
      await slots.watch(g, now + 60_000);
      expect(await slots.dueGroups(now, 1000)).toContain(g);
      await slots.rewatch(g, now + 60_000);
      expect(await slots.dueGroups(now, 1000)).not.toContain(g);
      await slots.rewatch(g, now - 1);
      await slots.unwatch(g);
      expect(await slots.dueGroups(now, 1000)).not.toContain(g);
    });
  });

  it('schedule store: the latest run never moves back, skips count, code marks come and go', async () => {
    const { schedules } = env();
    const id = `s${++seq}`;
    expect(await schedules.lastRun(id)).toBeNull();
    await schedules.recordRun(id, 2000, 'run-2');
    await schedules.recordRun(id, 1000, 'run-1');
    expect(await schedules.lastRun(id)).toEqual({ runId: 'run-2', slotAt: 2000 });
    await schedules.recordSkip(id, 3000);
    await schedules.recordSkip(id, 4000);
    expect(await schedules.stats([id, 'none'])).toEqual([{ lastRun: { runId: 'run-2', slotAt: 2000 }, skipped: 2, lastSkippedAt: 4000 }, { skipped: 0 }]);
    await schedules.markCode([id, `${id}b`]);
    expect((await schedules.codeScheduleIds()).sort()).toEqual([id, `${id}b`].sort());
    await schedules.unmarkCode(`${id}b`);
    await schedules.forget(id);
    expect(await schedules.codeScheduleIds()).toEqual([]);
    expect(await schedules.stats([id])).toEqual([{ skipped: 0 }]);
  });
}
