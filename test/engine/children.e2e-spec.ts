import {
  ChildFlowFailedError,
  defineFlow,
  GoTickError,
  type FlowContext,
  type FlowDefinition,
} from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

const Charge = defineFlow<{ amount: number }, { receipt: string }>('pay/charge');

describe('child flows on a real Redis', () => {
  const env = useEngines();

  const charge: FlowDefinition = {
    id: Charge.id,
    handler: async (ctx: FlowContext<{ amount: number }>) => {
      const receipt = await ctx.memo('charge', () => `r-${ctx.input.amount}`);
      return { receipt };
    },
  };

  it('returns the child output to the parent, and both views tie them together', async () => {
    const childCalls: string[] = [];
    const engine = await env.harness.start([
      charge,
      {
        id: 'order/place',
        handler: async (ctx: FlowContext<{ amount: number }>) => {
          const paid = await ctx.child('pay', Charge, { amount: ctx.input.amount });
          childCalls.push(paid.receipt);
          return { receipt: paid.receipt };
        },
      },
    ]);
    const { runId } = await engine.trigger('order/place', { amount: 42 });
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ receipt: 'r-42' });
    // The parent ran twice (start, then woken by the child), the flow body past the child once.
    expect(run.executions).toBe(2);
    expect(childCalls).toEqual(['r-42']);
    const step = run.steps.find((s) => s.key === 'pay')!;
    expect(step).toEqual(expect.objectContaining({ kind: 'child', status: 'completed', result: { receipt: 'r-42' }, childRunId: expect.any(String) }));
    const child = (await engine.getRun(step.childRunId!))!;
    expect(child).toEqual(expect.objectContaining({ flowId: 'pay/charge', status: 'completed', parentRunId: runId, parentStepKey: 'pay', input: { amount: 42 } }));
  });

  it('parks the parent while the child runs: its step shows waiting, the run sleeping', async () => {
    const engine = await env.harness.start([
      { id: 'kid/waits', handler: async (ctx: FlowContext) => (await ctx.waitForSignal<string>('go', 'go'))!.payload },
      { id: 'parent/waits', handler: async (ctx: FlowContext) => ctx.child<string>('kid', 'kid/waits') },
    ]);
    const { runId } = await engine.trigger('parent/waits');
    const waiting = await waitUntil(async () => {
      const run = await engine.getRun(runId);
      return run?.status === 'sleeping' && run.steps[0]?.status === 'waiting' ? run : undefined;
    }, 'the parent to park');
    const kidId = waiting.steps[0].childRunId!;
    expect(waiting.steps[0]).toEqual(expect.objectContaining({ key: 'kid', kind: 'child', status: 'waiting', childRunId: kidId }));
    await waitUntil(async () => (await engine.getRun(kidId))?.steps[0]?.status === 'waiting', 'the child to wait');
    await engine.signal(kidId, 'go', 'hello');
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.output).toBe('hello');
  });

  it('throws ChildFlowFailedError for a failed child, catchable, and the same on replay', async () => {
    const caught: Array<Record<string, unknown>> = [];
    const engine = await env.harness.start([
      {
        id: 'kid/fails',
        handler: async (ctx: FlowContext) => {
          await ctx.task('boom', () => {
            throw new Error('card declined');
          }, { retries: 0 });
        },
      },
      {
        id: 'parent/catches',
        handler: async (ctx: FlowContext) => {
          let outcome: Record<string, unknown> = {};
          try {
            await ctx.child('pay', 'kid/fails');
          } catch (err) {
            if (!(err instanceof ChildFlowFailedError)) throw err;
            outcome = { name: err.name, childRunId: err.childRunId, status: err.childStatus, childError: err.childError, stepKey: err.stepKey };
            caught.push(outcome);
          }
          // A sleep makes the run replay the caught failure from its record.
          await ctx.sleep('later', 50);
          return outcome;
        },
      },
    ]);
    const { runId } = await engine.trigger('parent/catches');
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('completed');
    const kidId = run.steps.find((s) => s.key === 'pay')!.childRunId;
    const expected = {
      name: 'ChildFlowFailedError',
      childRunId: kidId,
      status: 'failed',
      childError: { name: 'StepFailedError', message: expect.stringContaining('card declined') },
      stepKey: 'pay',
    };
    expect(run.output).toEqual(expected);
    // When the child's end woke the parent, and again on every replay after (the sleep's, at least): identical.
    // (A second wake-up of one end, the child's job and the parent's own look racing, only adds a replay.)
    expect(caught.length).toBeGreaterThanOrEqual(2);
    for (const seen of caught) expect(seen).toEqual(caught[0]);
    expect(run.steps.find((s) => s.key === 'pay')).toEqual(expect.objectContaining({ kind: 'child', status: 'failed' }));
  });

  it('an uncaught child failure fails the parent with ChildFlowFailedError naming the step', async () => {
    const engine = await env.harness.start([
      { id: 'kid/fails', handler: async () => { throw new Error('nope'); } },
      { id: 'parent/lets-fail', handler: async (ctx: FlowContext) => ctx.child('pay', 'kid/fails') },
    ]);
    const { runId } = await engine.trigger('parent/lets-fail');
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('failed');
    expect(run.error).toEqual(expect.objectContaining({ name: 'ChildFlowFailedError', stepKey: 'pay', message: expect.stringContaining('nope') }));
  });

  it('a cancelled child throws ChildFlowFailedError (cancelled) in its parent, at once', async () => {
    const engine = await env.harness.start([
      { id: 'kid/parked', handler: async (ctx: FlowContext) => ctx.waitForSignal('never', 'never') },
      {
        id: 'parent/cancelled-kid',
        handler: async (ctx: FlowContext) => {
          try {
            await ctx.child('kid', 'kid/parked');
            return 'no';
          } catch (err) {
            return err instanceof ChildFlowFailedError ? { status: err.childStatus, error: err.childError } : 'other';
          }
        },
      },
    ]);
    const { runId } = await engine.trigger('parent/cancelled-kid');
    const parked = await waitUntil(async () => {
      const run = await engine.getRun(runId);
      return run?.steps[0]?.status === 'waiting' ? run : undefined;
    }, 'the parent to wait');
    const kidId = parked.steps[0].childRunId!;
    await waitUntil(async () => (await engine.getRun(kidId))?.status === 'sleeping', 'the child to park');
    await engine.cancel(kidId, { reason: 'customer left' });
    const run = await engine.waitForRun(runId, { timeout: '2s' });
    expect(run.output).toEqual({ status: 'cancelled', error: { name: 'RunCancelledError', message: 'customer left' } });
  });

  it('fails the step with UnknownFlowError naming an unknown child flow, without retrying', async () => {
    const engine = await env.harness.start([{ id: 'parent/typo', handler: async (ctx: FlowContext) => ctx.child('kid', 'pay/chrage') }]);
    const { runId } = await engine.trigger('parent/typo');
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('failed');
    expect(run.error).toEqual(expect.objectContaining({ name: 'StepFailedError', stepKey: 'kid', message: expect.stringContaining('UnknownFlowError: Unknown flow "pay/chrage"') }));
    expect(run.steps).toEqual([expect.objectContaining({ key: 'kid', kind: 'child', status: 'failed', attempts: 1 })]);
    expect(run.executions).toBe(1);
  });

  it('startChild returns the child runId at once and the same one on every replay; the child runs on its own', async () => {
    const seen: string[] = [];
    const engine = await env.harness.start([
      charge,
      {
        id: 'parent/fires',
        handler: async (ctx: FlowContext) => {
          const id = await ctx.startChild('bill', Charge, { amount: 7 });
          seen.push(id);
          await ctx.sleep('nap', 30);
          return id;
        },
      },
    ]);
    const { runId } = await engine.trigger('parent/fires');
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
    expect(run.output).toBe(seen[0]);
    expect(run.steps.find((s) => s.key === 'bill')).toEqual(expect.objectContaining({ kind: 'child', status: 'completed', childRunId: seen[0] }));
    const child = await engine.waitForRun(seen[0], { timeout: '5s' });
    expect(child).toEqual(expect.objectContaining({ status: 'completed', output: { receipt: 'r-7' }, parentRunId: runId, parentStepKey: 'bill' }));
  });

  it('listRuns({ parentRunId }) lists the children of one run, newest first, paged and filtered', async () => {
    const engine = await env.harness.start([
      charge,
      { id: 'kid/parked', handler: async (ctx: FlowContext) => ctx.waitForSignal('never', 'never') },
      {
        id: 'parent/many',
        handler: async (ctx: FlowContext) => {
          const ids = [];
          for (let i = 0; i < 3; i++) ids.push(await ctx.startChild(`bill-${i}`, Charge, { amount: i }));
          ids.push(await ctx.startChild('stuck', 'kid/parked'));
          await ctx.waitForSignal('hold', 'hold');
          return ids;
        },
      },
    ]);
    const other = await engine.trigger('parent/many');
    const { runId } = await engine.trigger('parent/many');
    await waitUntil(async () => (await engine.getRun(runId))?.steps.find((s) => s.key === 'hold')?.status === 'waiting', 'the parent');
    const ids = (await engine.getRun(runId))!.steps.filter((s) => s.kind === 'child').map((s) => s.childRunId!);
    for (const id of ids.slice(0, 3)) await engine.waitForRun(id, { timeout: '5s' });

    const all = await engine.listRuns({ parentRunId: runId });
    expect(all.runs.map((r) => r.runId)).toEqual([...ids].reverse());
    expect(all.nextCursor).toBeUndefined();
    expect(all.runs.every((r) => r.parentRunId === runId)).toBe(true);
    // None of the other parent's children.
    const otherIds = (await engine.listRuns({ parentRunId: other.runId })).runs.map((r) => r.runId);
    expect(otherIds.filter((id) => ids.includes(id))).toEqual([]);

    const first = await engine.listRuns({ parentRunId: runId, limit: 3 });
    expect(first.runs).toHaveLength(3);
    const second = await engine.listRuns({ parentRunId: runId, limit: 3, cursor: first.nextCursor });
    expect([...first.runs, ...second.runs].map((r) => r.runId)).toEqual([...ids].reverse());
    expect(second.nextCursor).toBeUndefined();

    expect((await engine.listRuns({ parentRunId: runId, status: 'completed' })).runs).toHaveLength(3);
    expect((await engine.listRuns({ parentRunId: runId, flowId: 'kid/parked' })).runs.map((r) => r.runId)).toEqual([ids[3]]);
    expect((await engine.listRuns({ parentRunId: 'no-such-run' })).runs).toEqual([]);
    await expect(engine.listRuns({ parentRunId: 'bad id!' })).rejects.toThrow(GoTickError);
  });

  it('caps a child whole-run timeout by the time its parent has left', async () => {
    const engine = await env.harness.start([
      { id: 'kid/slow', handler: async (ctx: FlowContext) => ctx.waitForSignal('never', 'never') },
      {
        id: 'parent/short',
        handler: async (ctx: FlowContext) => {
          await ctx.child('kid', 'kid/slow', undefined, { timeout: '1h' });
        },
      },
    ]);
    const { runId } = await engine.trigger('parent/short', undefined, { timeout: '800ms' });
    const parked = await waitUntil(async () => {
      const run = await engine.getRun(runId);
      return run?.steps[0]?.childRunId ? run : undefined;
    }, 'the child to start');
    const kid = await engine.waitForRun(parked.steps[0].childRunId!, { timeout: '3s' });
    expect(kid.status).toBe('failed');
    expect(kid.error?.name).toBe('FlowTimeoutError');
    // Capped to what the parent had left when it started the child: at most its 800 ms, not the hour asked for.
    const capped = Number(/timeout of (\d+) ms/.exec(kid.error!.message)![1]);
    expect(capped).toBeGreaterThan(0);
    expect(capped).toBeLessThanOrEqual(800);
    expect((await engine.waitForRun(runId, { timeout: '3s' })).status).toBe('failed');
  });

  it('a child timeout shorter than the parent fails the child, and the parent catches it', async () => {
    const engine = await env.harness.start([
      { id: 'kid/slow', handler: async (ctx: FlowContext) => ctx.waitForSignal('never', 'never') },
      {
        id: 'parent/patient',
        handler: async (ctx: FlowContext) => {
          try {
            await ctx.child('kid', 'kid/slow', undefined, { timeout: '300ms' });
            return 'no';
          } catch (err) {
            return (err as ChildFlowFailedError).childError.name;
          }
        },
      },
    ]);
    const { runId } = await engine.trigger('parent/patient', undefined, { timeout: '1h' });
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.output).toBe('FlowTimeoutError');
  });

  it('cancelling a parent cancels its unfinished children, three levels down, parked or running', async () => {
    const aborted: string[] = [];
    const reached: string[] = [];
    const engine = await env.harness.start([
      {
        id: 'level/3',
        handler: async (ctx: FlowContext) => {
          await ctx.task('held', (task) => {
            reached.push(ctx.runId);
            return new Promise<void>((resolve) => task.signal.addEventListener('abort', () => {
              aborted.push((task.signal.reason as Error).name);
              resolve();
            }, { once: true }));
          }, { timeout: '1m' });
        },
      },
      { id: 'level/side', handler: async (ctx: FlowContext) => ctx.waitForSignal('never', 'never') },
      { id: 'level/2', handler: async (ctx: FlowContext) => ctx.child('down', 'level/3') },
      {
        id: 'level/1',
        handler: async (ctx: FlowContext) => {
          await ctx.startChild('side', 'level/side');
          await ctx.child('down', 'level/2');
        },
      },
    ]);
    const { runId } = await engine.trigger('level/1');
    await waitUntil(() => reached.length === 1, 'level 3 to run its task');
    const l1 = (await engine.getRun(runId))!;
    const side = l1.steps.find((s) => s.key === 'side')!.childRunId!;
    const l2 = l1.steps.find((s) => s.key === 'down')!.childRunId!;
    await waitUntil(async () => (await engine.getRun(side))?.status === 'sleeping', 'the side child to park');
    const l3 = reached[0];
    expect((await engine.getRun(l3))!.parentRunId).toBe(l2);

    const cancelledAt = Date.now();
    expect(await engine.cancel(runId, { reason: 'order withdrawn' })).toEqual({ runId, status: 'cancelled' });
    await waitUntil(async () => {
      const statuses = await Promise.all([side, l2, l3].map(async (id) => (await engine.getRun(id))!.status));
      return statuses.every((s) => s === 'cancelled');
    }, 'every descendant to be cancelled', 2000);
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    expect(aborted).toEqual(['RunCancelledError']);
    for (const id of [side, l2, l3]) {
      expect((await engine.getRun(id))!.error).toEqual(expect.objectContaining({ name: 'RunCancelledError', message: expect.stringMatching(/^Parent run ".+" was cancelled\.$/) }));
    }
    expect((await engine.getRun(runId))!.status).toBe('cancelled');
  });

  it('wakes a parent parked on one node when its child ends on another', async () => {
    // Deterministic placement: node a parks every parent and holds every child on a signal, then leaves;
    // node b, started after, finishes the children. BullMQ hands a worker the next job as it finishes one,
    // so two live nodes tend to run a parent and its child on the same node: chance would not prove this.
    const where: Record<string, { kid?: string; parked?: string }> = {};
    const flows = (node: string): FlowDefinition[] => [
      {
        id: 'kid/where',
        handler: async (ctx: FlowContext<{ parent: string }>) => {
          if (node === 'a') await ctx.waitForSignal('hold', 'go');
          (where[ctx.input.parent] ??= {}).kid = node;
          return node;
        },
      },
      {
        id: 'parent/where',
        handler: async (ctx: FlowContext) => {
          (where[ctx.runId] ??= {}).parked ??= node;
          return ctx.child<string>('kid', 'kid/where', { parent: ctx.runId });
        },
      },
    ];
    const a = await env.harness.start(flows('a'), { prefix: 'two-nodes' });
    const ids = (await Promise.all(Array.from({ length: 30 }, () => a.trigger('parent/where')))).map((t) => t.runId);
    const kids = await waitUntil(async () => {
      const runs = await Promise.all(ids.map((id) => a.getRun(id)));
      const kidIds = runs.map((run) => run?.steps[0]?.childRunId);
      if (kidIds.some((id) => !id)) return undefined;
      const kidRuns = await Promise.all(kidIds.map((id) => a.getRun(id!)));
      return kidRuns.every((run) => run?.status === 'sleeping') ? (kidIds as string[]) : undefined;
    }, 'every parent to park on node a and its child to wait for its signal', 10_000);
    await a.close();

    const b = await env.harness.start(flows('b'), { prefix: 'two-nodes' });
    await Promise.all(kids.map((id) => b.signal(id, 'go')));
    for (const id of ids) {
      const run = await b.waitForRun(id, { timeout: '10s' });
      expect(run.status).toBe('completed');
      expect(run.output).toBe('b');
      expect(where[id]).toEqual({ parked: 'a', kid: 'b' });
    }
  });

  it('a parent whose wake-up was lost (its child node died right after the child ended) is woken from its timer', async () => {
    const engine = await env.harness.start(
      [
        { id: 'kid/waits', handler: async (ctx: FlowContext) => (await ctx.waitForSignal<string>('go', 'go'))!.payload },
        { id: 'parent/waits', handler: async (ctx: FlowContext) => ctx.child<string>('kid', 'kid/waits') },
      ],
      { worker: { lease: '2s' } },
    );
    // What a SIGKILL between the child's end and the wake-up job leaves: the child ended, no job for the parent.
    const children = (engine as unknown as { node: { childRuns: { wakeParent: (id: string) => Promise<void> } } }).node.childRuns;
    const dropped: string[] = [];
    children.wakeParent = async (id) => void dropped.push(id);
    const { runId } = await engine.trigger('parent/waits');
    const parked = await waitUntil(async () => {
      const run = await engine.getRun(runId);
      return run?.status === 'sleeping' && run.steps[0]?.status === 'waiting' ? run : undefined;
    }, 'the parent to park');
    const kidId = parked.steps[0].childRunId!;
    await waitUntil(async () => (await engine.getRun(kidId))?.status === 'sleeping', 'the child to wait');
    await engine.signal(kidId, 'go', 'late');
    await engine.waitForRun(kidId, { timeout: '5s' });
    const run = await engine.waitForRun(runId, { timeout: '15s' });
    expect(run.output).toBe('late');
    expect(dropped).toEqual([runId]);
  }, 20_000);

  it('wakes each parent within moments of its child ending (200 children; p50/p99 logged)', async () => {
    const woke = new Map<string, number>();
    const engine = await env.harness.start(
      [
        { id: 'kid/quick', handler: async () => 'ok' },
        {
          id: 'parent/timed',
          handler: async (ctx: FlowContext) => {
            await ctx.child('kid', 'kid/quick');
            if (!woke.has(ctx.runId)) woke.set(ctx.runId, Date.now());
          },
        },
      ],
      { worker: { concurrency: 20 } },
    );
    const ids = (await engine.triggerMany('parent/timed', Array.from({ length: 200 }, () => ({})))).map((t) => t.runId);
    for (const id of ids) expect((await engine.waitForRun(id, { timeout: '30s' })).status).toBe('completed');
    const delays: number[] = [];
    for (const id of ids) {
      const kidId = (await engine.getRun(id))!.steps[0].childRunId!;
      const kid = (await engine.getRun(kidId))!;
      delays.push(woke.get(id)! - new Date(kid.finishedAt!).getTime());
    }
    delays.sort((x, y) => x - y);
    const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
    // eslint-disable-next-line no-console
    console.log(`parent wake-up after its child ended, 200 children: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${delays[delays.length - 1]} ms`);
    // The wake-up is a queue job in the resume lane, not a poll: well under a second even with 200 runs in flight.
    expect(at(0.99)).toBeLessThan(1000);

    // One at a time, on an otherwise idle engine: the wake-up path alone.
    const alone: number[] = [];
    for (let i = 0; i < 50; i++) {
      const { runId } = await engine.trigger('parent/timed');
      await engine.waitForRun(runId, { timeout: '5s' });
      const kid = (await engine.getRun((await engine.getRun(runId))!.steps[0].childRunId!))!;
      alone.push(woke.get(runId)! - new Date(kid.finishedAt!).getTime());
    }
    alone.sort((x, y) => x - y);
    // eslint-disable-next-line no-console
    console.log(`parent wake-up after its child ended, 50 children one at a time: p50 ${alone[25]} ms, p99 ${alone[49]} ms`);
    expect(alone[49]).toBeLessThan(1000);
  }, 60_000);

  it('retrying the failed child, then its parent, gives the parent the child\'s new output', async () => {
    const state = { broken: true };
    const engine = await env.harness.start([
      {
        id: 'kid/flaky',
        handler: async (ctx: FlowContext) =>
          ctx.memo('try', () => {
            if (state.broken) throw new Error('upstream down');
            return 'fixed';
          }, { retries: 0 }),
      },
      { id: 'parent/retried', handler: async (ctx: FlowContext) => ctx.child<string>('kid', 'kid/flaky') },
    ]);
    const { runId } = await engine.trigger('parent/retried');
    const failed = await engine.waitForRun(runId, { timeout: '5s' });
    expect(failed.error).toEqual(expect.objectContaining({ name: 'ChildFlowFailedError', stepKey: 'kid' }));
    const kidId = failed.steps[0].childRunId!;

    state.broken = false;
    await engine.retry(kidId);
    expect((await engine.waitForRun(kidId, { timeout: '5s' })).output).toBe('fixed');
    // The child's end found its parent failed: it did not bring it back by itself.
    expect((await engine.getRun(runId))!.status).toBe('failed');
    await engine.retry(runId);
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('completed');
    expect(run.output).toBe('fixed');
    expect(run.steps).toEqual([expect.objectContaining({ key: 'kid', status: 'completed', childRunId: kidId })]);
  });

  it('a parent cancelled while it starts its child leaves no child running (200 races)', async () => {
    const engine = await env.harness.start(
      [
        { id: 'kid/parked', handler: async (ctx: FlowContext) => ctx.waitForSignal('never', 'never') },
        {
          id: 'parent/racing',
          handler: async (ctx: FlowContext) => {
            await ctx.startChild('side', 'kid/parked');
            await ctx.child('kid', 'kid/parked');
          },
        },
      ],
      { worker: { concurrency: 20 } },
    );
    const parents: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const ids = (await engine.triggerMany('parent/racing', Array.from({ length: 20 }, () => ({})))).map((t) => t.runId);
      parents.push(...ids);
      // Cancels land anywhere from before the parent starts to after its children run.
      await Promise.all(ids.map(async (id, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i % 10) * 2));
        await engine.cancel(id, { reason: 'race' });
      }));
    }
    const kidsOf = async () => {
      const kids = [];
      let cursor: string | undefined;
      do {
        const page = await engine.listRuns({ flowId: 'kid/parked', limit: 200, cursor });
        kids.push(...page.runs);
        cursor = page.nextCursor;
      } while (cursor);
      return kids;
    };
    // Every child that was created ends cancelled: none is left parked or running under a cancelled parent.
    const kids = await waitUntil(async () => {
      const all = await kidsOf();
      return all.every((k) => k.status === 'cancelled') ? all : undefined;
    }, 'every child to be cancelled', 15_000);
    for (const id of parents) expect((await engine.getRun(id))!.status).toBe('cancelled');
    // Read again once every parent is known cancelled: no child appeared (or came back to life) since.
    const again = await kidsOf();
    expect(again.map((k) => [k.runId, k.status])).toEqual(kids.map((k) => [k.runId, 'cancelled']));
    expect(kids.every((k) => parents.includes(k.parentRunId!))).toBe(true);
    // eslint-disable-next-line no-console
    console.log(`200 parent cancels raced with child starts: ${kids.length} children created, all cancelled`);
  }, 60_000);

  it('a child whose parent was cancelled without the cascade reaching it (its node died) ends cancelled at its next start', async () => {
    let afterRan = false;
    const engine = await env.harness.start([
      {
        id: 'kid/napper',
        handler: async (ctx: FlowContext) => {
          await ctx.sleep('nap', 400);
          await ctx.task('after', () => void (afterRan = true));
        },
      },
      { id: 'parent/napper', handler: async (ctx: FlowContext) => ctx.child('kid', 'kid/napper') },
    ]);
    // What a node dying between a parent's cancel and its cascade leaves: the parent cancelled, the child untouched.
    const children = (engine as unknown as { node: { childRuns: { cancelChildren: () => Promise<void> } } }).node.childRuns;
    children.cancelChildren = async () => undefined;
    const { runId } = await engine.trigger('parent/napper');
    const parked = await waitUntil(async () => {
      const run = await engine.getRun(runId);
      return run?.steps[0]?.status === 'waiting' ? run : undefined;
    }, 'the parent to wait');
    const kidId = parked.steps[0].childRunId!;
    await waitUntil(async () => (await engine.getRun(kidId))?.status === 'sleeping', 'the child to nap');
    await engine.cancel(runId);
    const kid = await engine.waitForRun(kidId, { timeout: '5s' });
    expect(kid.status).toBe('cancelled');
    expect(kid.error).toEqual({ name: 'RunCancelledError', message: `Parent run "${runId}" was cancelled.` });
    expect(afterRan).toBe(false);
  });

  it('a cancel sent from a trigger-only node cascades through the worker node running the children', async () => {
    const reached: string[] = [];
    const flows = (): FlowDefinition[] => [
      {
        id: 'far/leaf',
        handler: async (ctx: FlowContext) => {
          await ctx.task('held', (task) => {
            reached.push(ctx.runId);
            return new Promise<void>((resolve) => task.signal.addEventListener('abort', () => resolve(), { once: true }));
          }, { timeout: '1m' });
        },
      },
      { id: 'far/middle', handler: async (ctx: FlowContext) => ctx.child('leaf', 'far/leaf') },
      { id: 'far/top', handler: async (ctx: FlowContext) => ctx.child('middle', 'far/middle') },
    ];
    const caller = await env.harness.start(flows(), { prefix: 'far', worker: false });
    await env.harness.start(flows(), { prefix: 'far' });
    const { runId } = await caller.trigger('far/top');
    await waitUntil(() => reached.length === 1, 'the leaf to run');
    const leaf = (await caller.getRun(reached[0]))!;
    await caller.cancel(runId, { reason: 'from afar' });
    await waitUntil(async () => {
      const statuses = await Promise.all([leaf.parentRunId!, leaf.runId].map(async (id) => (await caller.getRun(id))!.status));
      return statuses.every((s) => s === 'cancelled');
    }, 'the middle and the leaf to be cancelled', 2000);
  });

  it('children awaited in parallel: the parent parks once, wakes as each ends, and gets every output (20 parents)', async () => {
    const engine = await env.harness.start([
      { id: 'kid/echo', handler: async (ctx: FlowContext<{ v: string; go?: boolean }>) => (ctx.input.go ? ctx.input.v : (await ctx.waitForSignal<string>('go', 'go'))!.payload) },
      {
        id: 'parent/fan-out',
        handler: async (ctx: FlowContext) =>
          Promise.all([ctx.child<string>('a', 'kid/echo', { v: 'a', go: true }), ctx.child<string>('b', 'kid/echo', { v: 'b' }), ctx.child<string>('c', 'kid/echo', { v: 'c' })]),
      },
    ], { worker: { concurrency: 20 } });
    // A slow reply to one creation (a loaded Redis, a far shard): the parent must not park without its record.
    const children = (engine as unknown as { node: { childRuns: { start: (...args: any[]) => Promise<unknown> } } }).node.childRuns;
    const start = children.start.bind(children);
    children.start = async (...args: any[]) => {
      if (args[2].parent.stepKey === 'c') await new Promise((resolve) => setTimeout(resolve, 100));
      return start(...args);
    };
    const ids = (await engine.triggerMany('parent/fan-out', Array.from({ length: 20 }, () => ({})))).map((t) => t.runId);
    const kids = new Map<string, string[]>();
    for (const runId of ids) {
      const parked = await waitUntil(async () => {
        const run = await engine.getRun(runId);
        return run?.steps.length === 3 && run.status === 'sleeping' && run.steps[0].status === 'completed' ? run : undefined;
      }, `parent ${runId} to park on b and c`);
      kids.set(runId, parked.steps.map((s) => s.childRunId!));
      expect(parked.steps.map((s) => [s.key, s.status])).toEqual([['a', 'completed'], ['b', 'waiting'], ['c', 'waiting']]);
    }
    for (const [, [, b, c]] of kids) {
      for (const id of [b, c]) await waitUntil(async () => (await engine.getRun(id))?.steps[0]?.status === 'waiting', `child ${id} to wait`);
      await engine.signal(b, 'go', 'B');
    }
    for (const runId of ids) {
      await waitUntil(async () => {
        const run = await engine.getRun(runId);
        return run?.status === 'sleeping' && run.steps.find((s) => s.key === 'b')?.status === 'completed';
      }, `parent ${runId} to take b and park on c`);
    }
    for (const [, [, , c]] of kids) await engine.signal(c, 'go', 'C');
    for (const runId of ids) expect((await engine.waitForRun(runId, { timeout: '5s' })).output).toEqual(['a', 'B', 'C']);
    // One child per key and parent, however the three creations and the wake-ups interleaved.
    const all = (await engine.listRuns({ flowId: 'kid/echo', limit: 200 })).runs;
    expect(all).toHaveLength(60);
  });
});
