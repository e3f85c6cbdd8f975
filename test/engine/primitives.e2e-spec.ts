import 'reflect-metadata';
import { Type } from 'class-transformer';
import { NonRetriableError, type FlowContext, type FlowFailure } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';

class Money {
  constructor(public amount = 0, public currency = 'EUR') {}
  format(): string {
    return `${this.amount.toFixed(2)} ${this.currency}`;
  }
}
class Invoice {
  id = '';
  @Type(() => Money) total = new Money();
}

describe('flow primitives on a real Redis', () => {
  const env = useEngines();

  it('runs memo, sleep and task, and shows every step of the run', async () => {
    const closed: string[] = [];
    const engine = await env.harness.start([
      {
        id: 'demo/close-order',
        handler: async (ctx: FlowContext<{ orderId: string }>) => {
          const startAt = await ctx.memo('start_at', () => new Date());
          await ctx.sleep('wait-close', '300ms');
          await ctx.task('close-order', () => void closed.push(ctx.input.orderId));
          return { closedAfterMs: Date.now() - startAt.getTime(), startAtIsDate: startAt instanceof Date };
        },
      },
    ]);
    const { runId } = await engine.trigger('demo/close-order', { orderId: 'o-1' });
    const run = await engine.waitForRun<unknown, { closedAfterMs: number; startAtIsDate: boolean }>(runId, { timeout: '10s' });
    expect(run.status).toBe('completed');
    expect(run.output!.startAtIsDate).toBe(true);
    expect(run.output!.closedAfterMs).toBeGreaterThanOrEqual(300);
    expect(closed).toEqual(['o-1']);
    expect(run.steps.map((s) => [s.key, s.kind, s.status])).toEqual([
      ['start_at', 'memo', 'completed'],
      ['wait-close', 'sleep', 'completed'],
      ['close-order', 'task', 'completed'],
    ]);
    expect(run.executions).toBe(2);
    expect(run.input).toEqual({ orderId: 'o-1' });
  });

  it('replays memo results: the same Date, and class instances rebuilt with `type`', async () => {
    let calls = 0;
    const seen: unknown[] = [];
    const engine = await env.harness.start([
      {
        id: 'replay',
        handler: async (ctx: FlowContext) => {
          const at = await ctx.memo('at', () => (calls++, new Date('2024-05-06T07:08:09.010Z')));
          const invoice = await ctx.memo('invoice', () => Object.assign(new Invoice(), { id: 'i-1', total: new Money(12.5) }), { type: Invoice });
          seen.push([at, invoice]);
          await ctx.sleep('nap', 50);
          return { at: at.toISOString(), total: invoice.total.format() };
        },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('replay')).runId);
    expect(run.output).toEqual({ at: '2024-05-06T07:08:09.010Z', total: '12.50 EUR' });
    expect(calls).toBe(1);
    expect(seen).toHaveLength(2);
    const [firstAt, firstInvoice] = seen[0] as [Date, Invoice];
    const [replayAt, replayInvoice] = seen[1] as [Date, Invoice];
    expect(replayAt).toBeInstanceOf(Date);
    expect(replayAt.getTime()).toBe(firstAt.getTime());
    expect(replayInvoice).toBeInstanceOf(Invoice);
    expect(replayInvoice.total).toBeInstanceOf(Money);
    expect(replayInvoice).toEqual(firstInvoice);
  });

  it('keeps useStatus values across replays', async () => {
    const engine = await env.harness.start([
      {
        id: 'status',
        handler: async (ctx: FlowContext) => {
          const [startedAt] = await ctx.useStatus('started_at', Date.now());
          const [phase, setPhase] = await ctx.useStatus('phase', 'new');
          if (phase === 'new') await setPhase('slept');
          await ctx.sleep('nap', 30);
          const [again] = await ctx.useStatus('phase-after', phase);
          return { startedAt, again };
        },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('status')).runId);
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ startedAt: run.steps[0].result, again: 'slept' });
  });

  it('fans out with array + asyncArray + wait, never above the concurrency limit', async () => {
    let running = 0;
    let peak = 0;
    const engine = await env.harness.start([
      {
        id: 'download',
        handler: async (ctx: FlowContext<{ src: string }>) => {
          const parts = await ctx.array('split', () => ctx.input.src.split(''));
          const futures = ctx.asyncArray('download', parts, async (_task, part) => {
            running++;
            peak = Math.max(peak, running);
            await new Promise((resolve) => setTimeout(resolve, 30));
            running--;
            return `download(${part})`;
          });
          return ctx.wait(futures, { concurrency: 3 });
        },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('download', { src: 'abcdefgh' })).runId);
    expect(run.output).toEqual('abcdefgh'.split('').map((c) => `download(${c})`));
    expect(peak).toBe(3);
    expect(run.steps.map((s) => s.key)).toEqual(['split', ...'abcdefgh'.split('').map((_, i) => `download:${i}`)]);
  });

  it('runs ctx.async futures in parallel and returns their values in order', async () => {
    const engine = await env.harness.start([
      {
        id: 'translate',
        handler: async (ctx: FlowContext<string>) => {
          const en = ctx.async('to_en', async () => `en(${ctx.input})`);
          const len = ctx.async('token_len', async () => ctx.input.length);
          const [a, b] = await ctx.wait([en, len] as const, { concurrency: 2 });
          return { a, b };
        },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('translate', 'hola')).runId);
    expect(run.output).toEqual({ a: 'en(hola)', b: 4 });
  });

  it('retries with backoff, calls OnFlowError per failed attempt and OnFlowSuccess once', async () => {
    const attempts: number[] = [];
    const errors: FlowFailure[] = [];
    const successes: unknown[] = [];
    const engine = await env.harness.start([
      {
        id: 'flaky',
        handler: async (ctx: FlowContext) => {
          await ctx.task('charge', (task) => {
            attempts.push(task.attempt);
            if (task.attempt < 3) throw new Error(`card declined #${task.attempt}`);
          }, { retries: 5, backoff: { type: 'exponential', delay: 20 } });
          return 'paid';
        },
        hooks: { onError: [(_ctx, f) => void errors.push(f)], onSuccess: [(_ctx, out) => void successes.push(out)] },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('flaky')).runId);
    expect(run.status).toBe('completed');
    expect(attempts).toEqual([1, 2, 3]);
    expect(errors.map((e) => [e.stepKey, e.attempt, e.error.message])).toEqual([
      ['charge', 1, 'card declined #1'],
      ['charge', 2, 'card declined #2'],
    ]);
    expect(successes).toEqual(['paid']);
    const step = run.steps[0];
    expect(step.attempts).toBe(3);
    expect(step.errors!.map((e) => e.message)).toEqual(['card declined #1', 'card declined #2']);
  });

  it('fails the run at once on NonRetriableError and calls OnFlowFail once', async () => {
    const attempts: number[] = [];
    const failures: FlowFailure[] = [];
    const engine = await env.harness.start([
      {
        id: 'refuse',
        handler: async (ctx: FlowContext) => {
          await ctx.task('validate', (task) => {
            attempts.push(task.attempt);
            throw new NonRetriableError('order is already closed');
          });
        },
        hooks: { onFail: [(_ctx, f) => void failures.push(f)] },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('refuse')).runId);
    expect(run.status).toBe('failed');
    expect(attempts).toEqual([1]);
    expect(run.error).toMatchObject({ name: 'StepFailedError', stepKey: 'validate' });
    expect(run.error!.message).toContain('order is already closed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ stepKey: 'validate', attempt: 1 });
  });

  it('fails the run when retries run out', async () => {
    const engine = await env.harness.start([
      {
        id: 'always-fails',
        handler: async (ctx: FlowContext) => ctx.task('boom', () => { throw new Error('nope'); }, { retries: 2, backoff: 0 }),
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('always-fails')).runId);
    expect(run.status).toBe('failed');
    expect(run.steps[0]).toMatchObject({ key: 'boom', status: 'failed', attempts: 3 });
  });

  it('aborts an attempt past its timeout and retries it', async () => {
    let aborted = false;
    const engine = await env.harness.start([
      {
        id: 'slow',
        handler: async (ctx: FlowContext) =>
          ctx.memo('fetch', async (task) => {
            if (task.attempt === 1) {
              // A well-behaved task stops when its signal aborts.
              await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, 5000);
                task.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
              });
              aborted = task.signal.aborted;
            }
            return task.attempt;
          }, { timeout: 50, retries: 1, backoff: 0 }),
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('slow')).runId);
    expect(run.output).toBe(2);
    expect(run.steps[0].errors![0].name).toBe('StepTimeoutError');
    expect(aborted).toBe(true);
  });

  it('fails a run that uses one step key twice, naming the key', async () => {
    const engine = await env.harness.start([
      {
        id: 'dupe',
        handler: async (ctx: FlowContext) => {
          await ctx.memo('same', () => 1);
          try {
            await ctx.memo('same', () => 2);
          } catch {
            /* the failure must not be swallowable */
          }
          return 'should not complete';
        },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('dupe')).runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ name: 'DuplicateStepKeyError', stepKey: 'same' });
    expect(run.error!.message).toContain('"same"');
  });

  it.each([
    ['a function', () => () => 1],
    ['a BigInt', () => BigInt(1)],
    ['a circular object', () => { const o: Record<string, unknown> = {}; o.self = o; return o; }],
  ] as Array<[string, () => unknown]>)('fails the run naming the step when a memo returns %s, and keeps working', async (_what, make) => {
    const engine = await env.harness.start([
      { id: 'bad-result', handler: async (ctx: FlowContext) => ctx.memo('bad', make) },
      { id: 'fine', handler: async () => 'ok' },
    ]);
    const run = await engine.waitForRun((await engine.trigger('bad-result')).runId);
    expect(run.status).toBe('failed');
    expect(run.error!.name).toBe('NotSerializableError');
    expect(run.error!.message).toContain('step "bad"');
    const next = await engine.waitForRun((await engine.trigger('fine')).runId);
    expect(next.output).toBe('ok');
  });

  it('hides suspension from try/catch/finally around ctx.sleep', async () => {
    const seen: string[] = [];
    const engine = await env.harness.start([
      {
        id: 'guarded-sleep',
        handler: async (ctx: FlowContext) => {
          try {
            await ctx.sleep('nap', 100);
            seen.push('after-sleep');
          } catch (err) {
            seen.push(`catch:${(err as Error).message}`);
          } finally {
            seen.push('finally');
          }
          return 'done';
        },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('guarded-sleep')).runId);
    expect(run.output).toBe('done');
    expect(seen).toEqual(['after-sleep', 'finally']);
  });

  it('starts one run for one runId, however often it is triggered', async () => {
    let executions = 0;
    const engine = await env.harness.start([{ id: 'once', handler: async (ctx: FlowContext) => ctx.memo('count', () => ++executions) }]);
    const results = await Promise.all([1, 2, 3].map(() => engine.trigger('once', { n: 1 }, { runId: 'order-42' })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.runId))).toEqual(new Set(['order-42']));
    await engine.waitForRun('order-42');
    await engine.trigger('once', undefined, { runId: 'order-42' });
    expect((await engine.waitForRun('order-42')).output).toBe(1);
    expect(executions).toBe(1);
  });

  it('refuses unknown flows, bad run ids and unserialisable input, writing nothing', async () => {
    const engine = await env.harness.start([{ id: 'known', handler: async () => 1 }]);
    await expect(engine.trigger('nope')).rejects.toThrow('Unknown flow "nope"');
    await expect(engine.trigger('known', {}, { runId: 'has space' })).rejects.toThrow('Invalid runId');
    await expect(engine.trigger('known', { f: () => 1 })).rejects.toThrow('Input of flow "known" cannot be stored');
    expect((await engine.listRuns()).runs).toEqual([]);
  });

  it('lists runs newest first, by flow and status, page by page', async () => {
    const engine = await env.harness.start([
      { id: 'a', handler: async () => 'a' },
      { id: 'b', handler: async () => { throw new Error('b fails'); } },
    ]);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await engine.trigger('a')).runId);
    const failed = (await engine.trigger('b')).runId;
    for (const id of [...ids, failed]) await engine.waitForRun(id);

    const all = await engine.listRuns({ limit: 10 });
    expect(all.runs.map((r) => r.runId)).toEqual([failed, ...ids.reverse()]);
    const first = await engine.listRuns({ flowId: 'a', limit: 2 });
    const second = await engine.listRuns({ flowId: 'a', limit: 2, cursor: first.nextCursor });
    const third = await engine.listRuns({ flowId: 'a', limit: 2, cursor: second.nextCursor });
    expect([...first.runs, ...second.runs, ...third.runs].map((r) => r.runId)).toEqual(ids);
    expect(third.nextCursor).toBeUndefined();
    expect((await engine.listRuns({ status: 'failed' })).runs.map((r) => r.runId)).toEqual([failed]);
    expect(await engine.getRun('missing-run')).toBeNull();
  });
});
