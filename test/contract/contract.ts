import {
  ChildFlowFailedError,
  FlowTimeoutError,
  NonRetriableError,
  RunCancelledError,
  RunFinishedError,
  RunNotFoundError,
  RunNotRetriableError,
  SignalMailboxFullError,
  StepFailedError,
  StepTimeoutError,
  type FlowContext,
  type FlowFailure,
  type GoTickApi,
} from '../../lib/engine';
import { waitUntil } from '../support/wait-until';
import type { ContractDriver } from './drivers';

/** Hooks run after the run's end is written: a waiter may read the end first. */
const heard = (list: unknown[], what: string) => waitUntil(() => list.length > 0, what, 10_000);

/**
 * What the memory backend cannot show, by name: each needs a process to die,
 * a real clock to run past a lease, or Redis itself. They are covered on
 * Redis by the specs named here, and listed as skipped in the memory run.
 */
export const REDIS_ONLY: ReadonlyArray<readonly [name: string, reason: string]> = [
  ['crash recovery (SIGKILL of a worker mid-step)', 'no process to kill: one in-memory engine per test; see test/engine/crash-recovery.e2e-spec.ts'],
  ['lease takeover after a blocked event loop', 'the virtual clock does not move while a step runs; see test/engine/lease-livelock.e2e-spec.ts'],
  ['Redis outage, blips and out-of-memory', 'no Redis; see test/engine/redis-faults.e2e-spec.ts, test/engine/outage-shutdown.e2e-spec.ts'],
  ['Redis Cluster slots', 'no Redis; see test/engine/cluster.e2e-spec.ts'],
  ['several worker nodes sharing runs', 'one engine per memory backend; see test/engine/shared-workers.e2e-spec.ts, test/engine/fencing.e2e-spec.ts'],
  ['reconciler re-enqueues a lost job', 'the memory queue loses no job, and no reconciler runs on it; see test/engine/reconciler.e2e-spec.ts'],
];

/** A promise the test resolves: holds a step (and so its run's concurrency slot) until released. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** How many bodies run at once, and the most seen, counted from inside the tasks. */
function occupancy() {
  const inside = new Map<string, number>();
  const peak = new Map<string, number>();
  let all = 0;
  let allPeak = 0;
  return {
    async hold<T>(group: string, work: () => Promise<T>): Promise<T> {
      inside.set(group, (inside.get(group) ?? 0) + 1);
      peak.set(group, Math.max(peak.get(group) ?? 0, inside.get(group)!));
      allPeak = Math.max(allPeak, ++all);
      try {
        return await work();
      } finally {
        inside.set(group, inside.get(group)! - 1);
        all--;
      }
    },
    peak: (group: string) => peak.get(group) ?? 0,
    get allPeak() {
      return allPeak;
    },
  };
}

/**
 * The contract: every primitive and control, with the same assertions on
 * every backend. Durations are short so the Redis run stays quick; the
 * memory run moves its virtual clock instead of waiting.
 */
export function contractSuite(driver: ContractDriver): void {
  afterEach(() => driver.closeAll());

  describe('steps', () => {
    it('task, memo and replay: a done step never runs again, and steps list in the order the flow reached them', async () => {
      const bodies: string[] = [];
      const api = await driver.start([
        {
          id: 'c/replay',
          handler: async (ctx: FlowContext<{ n: number }>) => {
            const at = await ctx.memo('at', () => (bodies.push('at'), new Date('2024-05-06T07:08:09.010Z')));
            await ctx.task('side-effect', () => void bodies.push('side-effect'));
            await ctx.sleep('nap', '200ms');
            const doubled = await ctx.memo('double', () => (bodies.push('double'), ctx.input.n * 2));
            return { at: at.toISOString(), isDate: at instanceof Date, doubled };
          },
        },
      ]);
      const { runId } = await api.trigger('c/replay', { n: 21 });
      const run = await driver.finished(runId);
      expect(run.status).toBe('completed');
      expect(run.output).toEqual({ at: '2024-05-06T07:08:09.010Z', isDate: true, doubled: 42 });
      expect(bodies).toEqual(['at', 'side-effect', 'double']);
      expect(run.executions).toBe(2);
      expect(run.steps.map((s) => [s.key, s.kind, s.status, s.attempts])).toEqual([
        ['at', 'memo', 'completed', 1],
        ['side-effect', 'task', 'completed', 1],
        ['nap', 'sleep', 'completed', 1],
        ['double', 'memo', 'completed', 1],
      ]);
    });

    it('useStatus: the value set survives the replay after a sleep', async () => {
      const seen: number[] = [];
      const api = await driver.start([
        {
          id: 'c/status',
          handler: async (ctx: FlowContext) => {
            const [count, setCount] = await ctx.useStatus('count', 1);
            seen.push(count);
            if (count === 1) await setCount(5);
            await ctx.sleep('nap', '100ms');
            const [after] = await ctx.useStatus('count-after', count);
            return after;
          },
        },
      ]);
      const { runId } = await api.trigger('c/status');
      const run = await driver.finished(runId);
      expect(run.output).toBe(5);
      expect(seen).toEqual([1, 5]);
      expect(run.steps.find((s) => s.key === 'count')!.result).toBe(5);
    });

    it('array, async + wait, asyncArray: values in order, keys key:i, at most `concurrency` at once', async () => {
      let running = 0;
      let most = 0;
      const api = await driver.start([
        {
          id: 'c/fan-out',
          handler: async (ctx: FlowContext) => {
            const items = await ctx.array('items', () => [1, 2, 3, 4, 5]);
            const squares = await ctx.wait(
              ctx.asyncArray('sq', items, async (_task, item) => {
                most = Math.max(most, ++running);
                await new Promise((resolve) => setTimeout(resolve, 5));
                running--;
                return item * item;
              }),
              { concurrency: 2 },
            );
            const [a, b] = await ctx.wait([ctx.async('a', () => 'A'), ctx.async('b', () => 'B')] as const);
            return { squares, pair: a + b };
          },
        },
      ]);
      const { runId } = await api.trigger('c/fan-out');
      const run = await driver.finished(runId);
      expect(run.output).toEqual({ squares: [1, 4, 9, 16, 25], pair: 'AB' });
      expect(most).toBe(2);
      expect(run.steps.map((s) => s.key)).toEqual(['items', 'sq:0', 'sq:1', 'sq:2', 'sq:3', 'sq:4', 'a', 'b']);
      expect(run.steps.every((s) => s.status === 'completed')).toBe(true);
    });
  });

  describe('time', () => {
    it('sleep parks the run (sleeping, wakeAt) and wakes it no earlier than the duration', async () => {
      const api = await driver.start([
        {
          id: 'c/sleep',
          handler: async (ctx: FlowContext) => {
            await ctx.task('before', () => undefined);
            await ctx.sleep('nap', '300ms');
            await ctx.task('after', () => undefined);
          },
        },
      ]);
      const { runId } = await api.trigger('c/sleep');
      const parked = await driver.reaches(runId, 'sleeping');
      expect(parked.wakeAt).toBeDefined();
      const run = await driver.finished(runId);
      const before = Date.parse(run.steps[0].finishedAt!);
      const nap = run.steps[1];
      expect(Date.parse(nap.wakeAt!) - before).toBeGreaterThanOrEqual(300);
      expect(Date.parse(run.steps[2].finishedAt!)).toBeGreaterThanOrEqual(Date.parse(nap.wakeAt!));
    });

    it('sleepUntil wakes at the given time', async () => {
      const api = await driver.start([
        { id: 'c/until', handler: async (ctx: FlowContext<{ at: number }>) => ctx.sleepUntil('alarm', new Date(ctx.input.at)).then(() => 'rang') },
      ]);
      const at = driver.now() + 300;
      const { runId } = await api.trigger('c/until', { at });
      await driver.reaches(runId, 'sleeping');
      const run = await driver.finished(runId);
      expect(run.output).toBe('rang');
      expect(Date.parse(run.steps[0].wakeAt!)).toBe(at);
      expect(Date.parse(run.finishedAt!)).toBeGreaterThanOrEqual(at);
    });

    it('a delayed trigger stays queued until its time', async () => {
      const api = await driver.start([{ id: 'c/delayed', handler: async () => 'ran' }]);
      const triggeredAt = driver.now();
      const { runId } = await api.trigger('c/delayed', undefined, { delay: '300ms' });
      expect((await api.getRun(runId))!.status).toBe('queued');
      const run = await driver.finished(runId);
      expect(run.output).toBe('ran');
      expect(Date.parse(run.startedAt!) - triggeredAt).toBeGreaterThanOrEqual(300);
    });
  });

  describe('failures', () => {
    it('retries with backoff: each failed attempt is recorded, the next waits the backoff, OnFlowError hears each', async () => {
      const attemptErrors: FlowFailure[] = [];
      const api = await driver.start([
        {
          id: 'c/flaky',
          handler: async (ctx: FlowContext) =>
            ctx.memo(
              'flaky',
              ({ attempt }) => {
                if (attempt < 3) throw new Error(`boom ${attempt}`);
                return attempt;
              },
              { retries: 3, backoff: 200 },
            ),
          hooks: { onError: [(_ctx, failure) => void attemptErrors.push(failure)] },
        },
      ]);
      const { runId } = await api.trigger('c/flaky');
      const run = await driver.finished(runId);
      expect(run.status).toBe('completed');
      expect(run.output).toBe(3);
      const step = run.steps[0];
      expect(step.attempts).toBe(3);
      expect(step.errors!.map((e) => [e.attempt, e.message])).toEqual([
        [1, 'boom 1'],
        [2, 'boom 2'],
      ]);
      expect(Date.parse(step.errors![1].at) - Date.parse(step.errors![0].at)).toBeGreaterThanOrEqual(200);
      expect(Date.parse(step.finishedAt!) - Date.parse(step.errors![1].at)).toBeGreaterThanOrEqual(200);
      expect(attemptErrors.map((f) => [f.stepKey, f.attempt, f.error.message])).toEqual([
        ['flaky', 1, 'boom 1'],
        ['flaky', 2, 'boom 2'],
      ]);
    });

    it('exponential backoff doubles between attempts', async () => {
      const api = await driver.start([
        {
          id: 'c/exp',
          handler: async (ctx: FlowContext) =>
            ctx.task('x', ({ attempt }) => {
              if (attempt < 4) throw new Error('no');
            }, { retries: 5, backoff: { type: 'exponential', delay: 100, maxDelay: '1m' } }),
        },
      ]);
      const { runId } = await api.trigger('c/exp');
      const run = await driver.finished(runId);
      const at = run.steps[0].errors!.map((e) => Date.parse(e.at));
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(100);
      expect(at[2] - at[1]).toBeGreaterThanOrEqual(200);
      expect(Date.parse(run.steps[0].finishedAt!) - at[2]).toBeGreaterThanOrEqual(400);
    });

    it('retries run out: the run fails with StepFailedError naming the step, OnFlowFail hears it once', async () => {
      const failures: FlowFailure[] = [];
      const api = await driver.start([
        {
          id: 'c/doomed',
          handler: async (ctx: FlowContext) => ctx.task('charge', () => Promise.reject(new Error('card declined')), { retries: 2, backoff: 10 }),
          hooks: { onFail: [(_ctx, failure) => void failures.push(failure)] },
        },
      ]);
      const { runId } = await api.trigger('c/doomed');
      const run = await driver.finished(runId);
      expect(run.status).toBe('failed');
      expect(run.error).toMatchObject({ name: StepFailedError.name, stepKey: 'charge' });
      expect(run.error!.message).toContain('card declined');
      expect(run.steps[0]).toMatchObject({ key: 'charge', status: 'failed', attempts: 3 });
      await heard(failures, 'OnFlowFail');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ stepKey: 'charge', attempt: 3 });
    });

    it('NonRetriableError fails the step at once, retries left or not', async () => {
      let calls = 0;
      const api = await driver.start([
        {
          id: 'c/fatal',
          handler: async (ctx: FlowContext) =>
            ctx.task('validate', () => {
              calls++;
              throw new NonRetriableError('bad input');
            }, { retries: 5 }),
        },
      ]);
      const { runId } = await api.trigger('c/fatal');
      const run = await driver.finished(runId);
      expect(run.status).toBe('failed');
      expect(calls).toBe(1);
      expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 1 });
      expect(run.error!.message).toContain('bad input');
    });

    it('a step timeout aborts the attempt (StepTimeoutError in its signal) and counts as a failed attempt', async () => {
      const reasons: unknown[] = [];
      const api = await driver.start([
        {
          id: 'c/step-timeout',
          handler: async (ctx: FlowContext) =>
            ctx.task('hang', ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => (reasons.push(signal.reason), resolve()))), {
              timeout: '100ms',
              retries: 0,
            }),
        },
      ]);
      const { runId } = await api.trigger('c/step-timeout');
      const run = await driver.finished(runId);
      expect(run.status).toBe('failed');
      expect(run.steps[0].errors![0].name).toBe(StepTimeoutError.name);
      expect(reasons[0]).toBeInstanceOf(StepTimeoutError);
    });

    it('a whole-run timeout fails a sleeping run with FlowTimeoutError at its deadline, not at its wake time', async () => {
      const failures: FlowFailure[] = [];
      const api = await driver.start([
        {
          id: 'c/run-timeout',
          handler: async (ctx: FlowContext) => ctx.sleep('long', '1h'),
          hooks: { onFail: [(_ctx, failure) => void failures.push(failure)] },
        },
      ]);
      const { runId } = await api.trigger('c/run-timeout', undefined, { timeout: '300ms' });
      await driver.reaches(runId, 'sleeping');
      const run = await driver.finished(runId);
      expect(run.status).toBe('failed');
      expect(run.error!.name).toBe(FlowTimeoutError.name);
      expect(Date.parse(run.finishedAt!) - Date.parse(run.startedAt!)).toBeGreaterThanOrEqual(300);
      expect(Date.parse(run.finishedAt!) - Date.parse(run.startedAt!)).toBeLessThan(3_600_000);
      await heard(failures, 'OnFlowFail');
      expect(failures.map((f) => f.error.name)).toEqual([FlowTimeoutError.name]);
    });
  });

  describe('controls', () => {
    it('idempotent trigger: the same runId twice starts one run', async () => {
      let runs = 0;
      const api = await driver.start([{ id: 'c/once', handler: async (ctx: FlowContext) => ctx.task('count', () => void runs++) }]);
      const first = await api.trigger('c/once', { a: 1 }, { runId: 'order-1' });
      const second = await api.trigger('c/once', { a: 2 }, { runId: 'order-1' });
      expect([first.created, second.created]).toEqual([true, false]);
      const run = await driver.finished('order-1');
      expect(run.input).toEqual({ a: 1 });
      expect(runs).toBe(1);
      const again = await api.trigger('c/once', { a: 3 }, { runId: 'order-1' });
      expect(again.created).toBe(false);
      expect((await driver.finished('order-1')).executions).toBe(1);
      expect(runs).toBe(1);
    });

    it('cancel: a sleeping run at once (OnFlowCancel with the reason), a finished one answers its status, an unknown one throws', async () => {
      const cancels: Array<string | undefined> = [];
      const api = await driver.start([
        {
          id: 'c/cancel-parked',
          handler: async (ctx: FlowContext) => ctx.sleep('long', '1h'),
          hooks: { onCancel: [(_ctx, cancel) => void cancels.push(cancel.reason)] },
        },
      ]);
      const { runId } = await api.trigger('c/cancel-parked');
      await driver.reaches(runId, 'sleeping');
      expect(await api.cancel(runId, { reason: 'customer left' })).toEqual({ runId, status: 'cancelled' });
      const run = await driver.finished(runId);
      expect(run.status).toBe('cancelled');
      expect(run.error).toMatchObject({ name: RunCancelledError.name });
      expect(cancels).toEqual(['customer left']);
      expect(await api.cancel(runId)).toEqual({ runId, status: 'cancelled' });
      await expect(api.cancel('no-such-run')).rejects.toBeInstanceOf(RunNotFoundError);
    });

    it('cancel: a running step sees RunCancelledError in its signal, and the run ends cancelled without its next step', async () => {
      const reasons: unknown[] = [];
      let next = 0;
      const api = await driver.start([
        {
          id: 'c/cancel-running',
          handler: async (ctx: FlowContext) => {
            await ctx.task('held', ({ signal }) => new Promise<void>((resolve) => signal.addEventListener('abort', () => (reasons.push(signal.reason), resolve()))));
            await ctx.task('next', () => void next++);
          },
        },
      ]);
      const { runId } = await api.trigger('c/cancel-running');
      await driver.reaches(runId, 'running');
      expect((await api.cancel(runId, { reason: 'stop' })).status).toBe('cancelled');
      const run = await driver.finished(runId);
      expect(run.status).toBe('cancelled');
      expect(reasons[0]).toBeInstanceOf(RunCancelledError);
      expect(next).toBe(0);
    });

    it('retry: a failed run runs again from its failed step, done steps keep their results, the old error is kept', async () => {
      let charges = 0;
      let healthy = false;
      const api = await driver.start([
        {
          id: 'c/retry',
          handler: async (ctx: FlowContext) => {
            const ticket = await ctx.memo('reserve', () => `t-${++charges}`);
            await ctx.task('ship', () => {
              if (!healthy) throw new NonRetriableError('warehouse closed');
            });
            return ticket;
          },
        },
      ]);
      const { runId } = await api.trigger('c/retry');
      expect((await driver.finished(runId)).status).toBe('failed');
      await expect(api.retry('no-such-run')).rejects.toBeInstanceOf(RunNotFoundError);
      healthy = true;
      expect(await api.retry(runId)).toEqual({ runId, status: 'queued' });
      const run = await driver.finished(runId);
      expect(run.status).toBe('completed');
      expect(run.output).toBe('t-1');
      expect(charges).toBe(1);
      expect(run.retries).toBe(1);
      expect(run.previousErrors!.map((e) => e.stepKey)).toEqual(['ship']);
      await expect(api.retry(runId)).rejects.toBeInstanceOf(RunNotRetriableError);
    });

    it('getRun and listRuns: null for an unknown run; newest first, filtered by status, paged by cursor', async () => {
      const api = await driver.start([
        { id: 'c/list', handler: async (ctx: FlowContext<{ ok: boolean }>) => ctx.task('t', () => { if (!ctx.input.ok) throw new NonRetriableError('no'); }) },
      ]);
      expect(await api.getRun('no-such-run')).toBeNull();
      const ids: string[] = [];
      for (const ok of [true, false, true]) {
        const { runId } = await api.trigger('c/list', { ok });
        ids.push(runId);
        await driver.finished(runId);
      }
      const page1 = await api.listRuns({ flowId: 'c/list', limit: 2 });
      expect(page1.runs.map((r) => r.runId)).toEqual([ids[2], ids[1]]);
      expect(page1.nextCursor).toBeDefined();
      const page2 = await api.listRuns({ flowId: 'c/list', limit: 2, cursor: page1.nextCursor });
      expect(page2.runs.map((r) => r.runId)).toEqual([ids[0]]);
      expect(page2.nextCursor).toBeUndefined();
      const failed = await api.listRuns({ flowId: 'c/list', status: 'failed' });
      expect(failed.runs.map((r) => [r.runId, r.status])).toEqual([[ids[1], 'failed']]);
      expect((await api.listRuns({ flowId: 'c/list' })).runs[0]).not.toHaveProperty('input');
    });
  });

  describe('signals', () => {
    const payment = {
      id: 'c/payment',
      handler: async (ctx: FlowContext) => {
        const paid = await ctx.waitForSignal<{ amount: number }>('paid', 'payment', { timeout: '400ms' });
        return paid ? { amount: paid.payload.amount, sentAtIsDate: paid.sentAt instanceof Date } : 'timed out';
      },
    };

    it('a signal wakes a run waiting for it', async () => {
      const api = await driver.start([payment]);
      const { runId } = await api.trigger('c/payment');
      const waiting = await driver.reaches(runId, 'sleeping');
      expect(waiting.steps[0]).toMatchObject({ key: 'paid', status: 'waiting', waitingFor: 'payment' });
      await api.signal(runId, 'payment', { amount: 42 });
      const run = await driver.finished(runId);
      expect(run.output).toEqual({ amount: 42, sentAtIsDate: true });
    });

    it('a signal sent before the wait is kept for it', async () => {
      const api = await driver.start([
        {
          id: 'c/early',
          handler: async (ctx: FlowContext) => {
            await ctx.sleep('first', '100ms');
            return (await ctx.waitForSignal<string>('got', 'go'))!.payload;
          },
        },
      ]);
      const { runId } = await api.trigger('c/early');
      await api.signal(runId, 'go', 'one');
      await api.signal(runId, 'go', 'two');
      const run = await driver.finished(runId);
      expect(run.output).toBe('one');
    });

    it('no signal before the timeout: the wait returns null', async () => {
      const api = await driver.start([payment]);
      const { runId } = await api.trigger('c/payment');
      const run = await driver.finished(runId);
      expect(run.output).toBe('timed out');
      expect(Date.parse(run.finishedAt!) - Date.parse(run.startedAt!)).toBeGreaterThanOrEqual(400);
    });

    it('signals to an unknown run, a finished run and a full mailbox fail with named errors', async () => {
      const api = await driver.start([payment, { id: 'c/quick', handler: async () => 'done' }], { limits: { maxSignalsPerRun: 2 } });
      await expect(api.signal('no-such-run', 'payment')).rejects.toBeInstanceOf(RunNotFoundError);
      const quick = await api.trigger('c/quick');
      await driver.finished(quick.runId);
      await expect(api.signal(quick.runId, 'payment')).rejects.toBeInstanceOf(RunFinishedError);
      const { runId } = await api.trigger('c/payment');
      await api.signal(runId, 'other', 1);
      await api.signal(runId, 'other', 2);
      await expect(api.signal(runId, 'other', 3)).rejects.toBeInstanceOf(SignalMailboxFullError);
    });
  });

  describe('hooks', () => {
    it('OnFlowSuccess gets the output, once', async () => {
      const outputs: unknown[] = [];
      const api = await driver.start([
        { id: 'c/hooks', handler: async () => ({ ok: true }), hooks: { onSuccess: [(ctx, output) => void outputs.push([ctx.flowId, output])] } },
      ]);
      const { runId } = await api.trigger('c/hooks');
      await driver.finished(runId);
      await heard(outputs, 'OnFlowSuccess');
      expect(outputs).toEqual([['c/hooks', { ok: true }]]);
    });
  });

  describe('children', () => {
    it('ctx.child returns the output, a failed child is ChildFlowFailedError, startChild answers the runId; listRuns by parent', async () => {
      const api = await driver.start([
        {
          id: 'c/kid',
          handler: async (ctx: FlowContext<{ n: number }>) => {
            await ctx.sleep('nap', '100ms');
            if (ctx.input.n < 0) throw new Error('negative');
            return ctx.input.n * 2;
          },
        },
        {
          id: 'c/parent',
          handler: async (ctx: FlowContext) => {
            const fired = await ctx.startChild('fired', 'c/kid', { n: 1 });
            const doubled = await ctx.child<number>('ok', 'c/kid', { n: 21 });
            try {
              await ctx.child('bad', 'c/kid', { n: -1 });
              return { doubled, fired };
            } catch (err) {
              const failure = err as ChildFlowFailedError;
              return { doubled, fired, failed: [failure.name, failure.childStatus, failure.childError.message] };
            }
          },
        },
      ]);
      const { runId } = await api.trigger('c/parent');
      const run = await driver.finished(runId);
      expect(run.output).toEqual({ doubled: 42, fired: expect.any(String), failed: ['ChildFlowFailedError', 'failed', 'negative'] });
      expect(run.steps.map((s) => [s.key, s.kind, s.status])).toEqual([
        ['fired', 'child', 'completed'],
        ['ok', 'child', 'completed'],
        ['bad', 'child', 'failed'],
      ]);
      const children = (await api.listRuns({ parentRunId: runId })).runs;
      expect(children.map((c) => c.runId)).toEqual([...run.steps].reverse().map((s) => s.childRunId));
      expect(children.every((c) => c.parentRunId === runId && c.flowId === 'c/kid')).toBe(true);
      expect(await driver.finished(run.output.fired)).toMatchObject({ status: 'completed', output: 2, parentRunId: runId, parentStepKey: 'fired' });
    });

    it('cancelling a parent cancels its waiting child and the child\'s own child', async () => {
      const api = await driver.start([
        { id: 'c/leaf', handler: async (ctx: FlowContext) => ctx.waitForSignal('never', 'never') },
        { id: 'c/middle', handler: async (ctx: FlowContext) => ctx.child('leaf', 'c/leaf') },
        { id: 'c/top', handler: async (ctx: FlowContext) => ctx.child('middle', 'c/middle') },
      ]);
      const { runId } = await api.trigger('c/top');
      const top = await waitUntil(async () => {
        const view = await api.getRun(runId);
        return view?.steps[0]?.status === 'waiting' ? view : undefined;
      }, 'the top run to wait', 10_000);
      const middleId = top.steps[0].childRunId!;
      const middle = await waitUntil(async () => {
        const view = await api.getRun(middleId);
        return view?.steps[0]?.status === 'waiting' ? view : undefined;
      }, 'the middle run to wait', 10_000);
      const leafId = middle.steps[0].childRunId!;
      await driver.reaches(leafId, 'sleeping');
      await api.cancel(runId, { reason: 'stop' });
      for (const id of [middleId, leafId]) {
        expect(await driver.reaches(id, 'cancelled')).toMatchObject({ error: { name: 'RunCancelledError', message: `Parent run "${id === middleId ? runId : middleId}" was cancelled.` } });
      }
    });
  });

  describe('schedules', () => {
    const bySlot = (a: { slotAt?: string }, b: { slotAt?: string }) => Date.parse(a.slotAt!) - Date.parse(b.slotAt!);
    const scheduledRuns = async (api: GoTickApi, flowId: string, scheduleId: string) =>
      (await api.listRuns({ flowId, limit: 200 })).runs.filter((run) => run.scheduleId === scheduleId).sort(bySlot);

    it('one run per slot, on whole multiples of the interval, named by the slot, with the input; unschedule stops it', async () => {
      const api = await driver.start([{ id: 'c/tick', handler: async (ctx: FlowContext) => ({ got: ctx.input }) }]);
      const view = await api.schedule('c-every', 'c/tick', { every: '1s', input: { n: 7 }, overlap: 'allow' });
      expect(view).toMatchObject({ scheduleId: 'c-every', flowId: 'c/tick', spec: { every: '1s', input: { n: 7 }, overlap: 'allow' }, source: 'runtime', skipped: 0 });
      expect(Date.parse(view.nextAt!) % 1000).toBe(0);
      expect(Date.parse(view.nextAt!)).toBeGreaterThanOrEqual(driver.now() - 1000);
      const runs = await driver.until(async () => {
        const found = await scheduledRuns(api, 'c/tick', 'c-every');
        return found.filter((run) => run.status === 'completed').length >= 3 ? found : undefined;
      }, 'three slots to have run', 15_000);
      const slots = runs.map((run) => Date.parse(run.slotAt!));
      expect(slots.every((slot) => slot % 1000 === 0)).toBe(true);
      expect(slots.slice(1).map((slot, i) => slot - slots[i]).every((gap) => gap === 1000)).toBe(true); // no slot lost, none twice
      expect(runs.map((run) => run.runId)).toEqual(slots.map((slot) => `sched.c-every.${slot}`));
      const first = await api.getRun(runs[0].runId);
      expect(first).toMatchObject({ status: 'completed', input: { n: 7 }, output: { got: { n: 7 } }, scheduleId: 'c-every', executions: 1 });
      const [listed] = await api.listSchedules();
      expect(listed).toMatchObject({ scheduleId: 'c-every', lastRun: { runId: expect.stringMatching(/^sched\.c-every\./) } });

      const removedAt = driver.now();
      expect(await api.unschedule('c-every')).toBe(true);
      await driver.until(async () => driver.now() - removedAt >= 2500, 'two slots of time to pass', 10_000);
      // A slot already being fired as it was removed may still start its run; no later slot does.
      const last = (await scheduledRuns(api, 'c/tick', 'c-every')).at(-1)!;
      expect(Date.parse(last.slotAt!)).toBeLessThanOrEqual(removedAt);
      expect(await api.listSchedules()).toEqual([]);
      expect(await api.unschedule('c-every')).toBe(false);
    });

    it("overlap 'skip' skips and counts slots while the previous run is live; a @Flow schedule fires from code", async () => {
      const api = await driver.start([
        { id: 'c/slow-tick', handler: async (ctx: FlowContext) => ctx.waitForSignal('go', 'go') },
        { id: 'c/coded', options: { schedule: { every: '1s' } }, handler: async () => 'coded' },
      ]);
      expect(await api.schedule('c-skip', 'c/slow-tick', { every: '1s' })).toMatchObject({ spec: { every: '1s' }, skipped: 0 });
      const skipped = await driver.until(async () => {
        const schedule = (await api.listSchedules()).find((s) => s.scheduleId === 'c-skip');
        return schedule && schedule.skipped >= 2 ? schedule : undefined;
      }, 'two slots to be skipped', 15_000);
      const live = await scheduledRuns(api, 'c/slow-tick', 'c-skip');
      expect(live).toHaveLength(1);
      expect(live[0].status).toBe('sleeping');
      expect(skipped.lastRun!.runId).toBe(live[0].runId);
      expect(Date.parse(skipped.lastSkippedAt!)).toBeGreaterThan(Date.parse(live[0].slotAt!));
      await api.signal(live[0].runId, 'go');
      // Once it ended, the next slot starts a run again.
      await driver.until(async () => (await scheduledRuns(api, 'c/slow-tick', 'c-skip')).length >= 2, 'a slot after the run ended to start one', 15_000);

      const coded = (await api.listSchedules()).find((s) => s.scheduleId === 'c/coded');
      expect(coded).toMatchObject({ flowId: 'c/coded', source: 'code', spec: { every: '1s' } });
      const codedRuns = await driver.until(async () => {
        const found = await scheduledRuns(api, 'c/coded', 'c/coded');
        return found.some((run) => run.status === 'completed') ? found : undefined;
      }, 'the code schedule to start a run', 15_000);
      expect((await api.getRun(codedRuns.find((run) => run.status === 'completed')!.runId))!.output).toBe('coded');
    });
  });

  describe('concurrency', () => {
    it('limit 2: 8 runs never run more than 2 at once (peak seen from inside the tasks is 2), each body once, all complete', async () => {
      const seen = occupancy();
      const bodies = new Map<string, number>();
      const api = await driver.start([
        {
          id: 'c/capped',
          options: { concurrency: 2 },
          handler: async (ctx: FlowContext) =>
            ctx.memo('work', () => {
              bodies.set(ctx.runId, (bodies.get(ctx.runId) ?? 0) + 1);
              return seen.hold('all', () => new Promise((resolve) => setTimeout(() => resolve(ctx.input), 60)));
            }),
        },
      ]);
      const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => api.trigger('c/capped', i)));
      const done = await Promise.all(runs.map(({ runId }) => driver.finished(runId)));
      expect(done.map((run) => [run.status, run.output])).toEqual(runs.map((_, i) => ['completed', i]));
      expect(seen.peak('all')).toBe(2);
      expect([...bodies.values()]).toEqual(Array(8).fill(1));
      expect(done.every((run) => run.executions === 1)).toBe(true); // a wait in line is no execution
    });

    it('per key, limit 1: at most one run per key at once, the keys side by side', async () => {
      const seen = occupancy();
      const api = await driver.start([
        {
          id: 'c/per-key',
          options: { concurrency: { limit: 1, key: (input: { k: string }) => input.k } },
          handler: async (ctx: FlowContext<{ k: string; i: number }>) =>
            ctx.memo('work', () => seen.hold(ctx.input.k, () => new Promise((resolve) => setTimeout(() => resolve(ctx.input.i), 60)))),
        },
      ]);
      const inputs = ['a', 'b', 'c'].flatMap((k) => [0, 1, 2].map((i) => ({ k, i })));
      const runs = await Promise.all(inputs.map((input) => api.trigger('c/per-key', input)));
      const done = await Promise.all(runs.map(({ runId }) => driver.finished(runId)));
      expect(done.every((run) => run.status === 'completed')).toBe(true);
      expect(['a', 'b', 'c'].map((k) => seen.peak(k))).toEqual([1, 1, 1]);
      expect(seen.allPeak).toBe(3);
    });

    it('a run cancelled while it waits for a slot never executes, and the slot passes to the next', async () => {
      const held = gate();
      const bodies: string[] = [];
      const api = await driver.start([
        {
          id: 'c/one-at-a-time',
          options: { concurrency: 1 },
          handler: async (ctx: FlowContext<string>) =>
            ctx.memo('work', async () => {
              bodies.push(ctx.input);
              if (ctx.input === 'first') await held.promise;
              return ctx.input;
            }),
        },
      ]);
      const first = await api.trigger('c/one-at-a-time', 'first');
      await waitUntil(() => bodies.includes('first'), 'the first run to hold the slot', 10_000);
      const second = await api.trigger('c/one-at-a-time', 'second');
      const third = await api.trigger('c/one-at-a-time', 'third');
      expect(await api.cancel(second.runId, { reason: 'not needed' })).toMatchObject({ status: 'cancelled' });
      held.open();
      expect(await driver.finished(third.runId)).toMatchObject({ status: 'completed', output: 'third' });
      expect(await driver.finished(first.runId)).toMatchObject({ status: 'completed', output: 'first' });
      expect((await api.getRun(second.runId))!.status).toBe('cancelled');
      expect(bodies).toEqual(['first', 'third']);
    });

    it('a run held back by a full cap says why (waitingForSlot: its key, since when) in getRun and listRuns, until it starts', async () => {
      const gates = new Map([['first', gate()], ['second', gate()], ['whole-1', gate()]]);
      const bodies: string[] = [];
      const body = (ctx: FlowContext<{ k?: string; name: string }>) =>
        ctx.memo('work', async () => {
          bodies.push(ctx.input.name);
          await gates.get(ctx.input.name)?.promise;
          return ctx.input.name;
        });
      const api = await driver.start([
        { id: 'c/per-customer', options: { concurrency: { limit: 1, key: (input: { k: string }) => input.k } }, handler: body },
        { id: 'c/flow-wide', options: { concurrency: 1 }, handler: body },
      ]);
      const waitsInLine = (runId: string) =>
        waitUntil(async () => (await api.getRun(runId))?.waitingForSlot, `run ${runId} to wait for a slot`, 10_000);

      // Not yet picked up (delayed): queued, with no line to wait in.
      const later = await api.trigger('c/per-customer', { k: 'customer-42', name: 'later' }, { delay: '1h' });
      expect(await api.getRun(later.runId)).toMatchObject({ status: 'queued' });
      expect(await api.getRun(later.runId)).not.toHaveProperty('waitingForSlot');

      const first = await api.trigger('c/per-customer', { k: 'customer-42', name: 'first' });
      await waitUntil(() => bodies.includes('first'), 'the first run to hold the slot', 10_000);
      const beforeSecond = driver.now();
      const second = await api.trigger('c/per-customer', { k: 'customer-42', name: 'second' });
      const slot = await waitsInLine(second.runId);
      expect(slot).toEqual({ key: 'customer-42', since: expect.any(String) });
      expect(Date.parse(slot.since)).toBeGreaterThanOrEqual(beforeSecond);
      expect(await api.getRun(second.runId)).toMatchObject({ status: 'queued', executions: 0 });
      expect(await api.getRun(first.runId)).toMatchObject({ status: 'running' });
      expect(await api.getRun(first.runId)).not.toHaveProperty('waitingForSlot');
      // Lists carry it too: the run list can tell the two queued runs apart.
      const listed = new Map((await api.listRuns({ flowId: 'c/per-customer' })).runs.map((run) => [run.runId, run]));
      expect(listed.get(second.runId)).toMatchObject({ status: 'queued', waitingForSlot: slot });
      expect(listed.get(later.runId)).toMatchObject({ status: 'queued' });
      expect(listed.get(later.runId)).not.toHaveProperty('waitingForSlot');
      expect(listed.get(first.runId)).not.toHaveProperty('waitingForSlot');
      expect((await api.listRuns({ flowId: 'c/per-customer', status: 'queued' })).runs.filter((run) => run.waitingForSlot).map((run) => run.runId)).toEqual([second.runId]);

      // A cap without a key: one line for the whole flow, key ''.
      await api.trigger('c/flow-wide', { name: 'whole-1' });
      await waitUntil(() => bodies.includes('whole-1'), 'the flow-wide slot to be held', 10_000);
      const whole2 = await api.trigger('c/flow-wide', { name: 'whole-2' });
      expect(await waitsInLine(whole2.runId)).toEqual({ key: '', since: expect.any(String) });

      // Its slot taken, the run runs: the field is gone, and stays gone once it has ended.
      gates.get('first')!.open();
      await waitUntil(() => bodies.includes('second'), 'the second run to start', 10_000);
      expect(await api.getRun(second.runId)).toMatchObject({ status: 'running', executions: 1 });
      expect(await api.getRun(second.runId)).not.toHaveProperty('waitingForSlot');
      gates.get('second')!.open();
      gates.get('whole-1')!.open();
      expect(await driver.finished(second.runId)).not.toHaveProperty('waitingForSlot');
      expect(await driver.finished(whole2.runId)).toMatchObject({ status: 'completed' });
      expect(await api.getRun(whole2.runId)).not.toHaveProperty('waitingForSlot');
      await api.cancel(later.runId);
    });
  });
}
