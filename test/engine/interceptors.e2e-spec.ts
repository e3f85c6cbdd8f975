import {
  GoTickConfigError,
  GoTickEngine,
  type ExecutionEnd,
  type FlowContext,
  type GoTickInterceptor,
  type RunInterceptInfo,
  type StepInterceptInfo,
} from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { createTestEngine } from '../../lib/testing';

/** Records every call it wraps, in `log`, as `<name> > what` on the way in and `<name> < what` on the way out. */
function recorder(name: string, log: string[]): GoTickInterceptor {
  return {
    async interceptRun(info, next) {
      log.push(`${name} > run#${info.execution}`);
      const end = await next();
      log.push(`${name} < run#${info.execution} ${end.status}`);
      return end;
    },
    async interceptStep(info, next) {
      log.push(`${name} > ${info.kind} ${info.key}#${info.attempt}`);
      const value = await next();
      log.push(`${name} < ${info.key}`);
      return value;
    },
  };
}

const logger = () => {
  const errors: string[] = [];
  return { errors, logger: { log: () => undefined, warn: () => undefined, error: (message: string) => void errors.push(message) } };
};

describe('interceptors on a real Redis', () => {
  const env = useEngines();

  it('wraps each execution and each step attempt, first interceptor outermost, around the step body', async () => {
    const log: string[] = [];
    const engine = await env.harness.start(
      [
        {
          id: 'ordered',
          handler: async (ctx: FlowContext) => {
            const a = await ctx.memo('a', () => {
              log.push('body a');
              return 2;
            });
            await ctx.task('b', () => void log.push('body b'));
            return a * 21;
          },
        },
      ],
      { interceptors: [recorder('outer', log), recorder('inner', log)] },
    );
    const { runId } = await engine.trigger('ordered');
    const run = await engine.waitForRun(runId);
    expect(run.output).toBe(42);
    expect(log).toEqual([
      'outer > run#1',
      'inner > run#1',
      'outer > memo a#1',
      'inner > memo a#1',
      'body a',
      'inner < a',
      'outer < a',
      'outer > task b#1',
      'inner > task b#1',
      'body b',
      'inner < b',
      'outer < b',
      'inner < run#1 completed',
      'outer < run#1 completed',
    ]);
  });

  it('does not intercept replayed steps: every attempt is seen once over the executions of a run that sleeps and retries', async () => {
    const steps: StepInterceptInfo[] = [];
    const runs: Array<{ info: RunInterceptInfo; end: ExecutionEnd }> = [];
    let flakyCalls = 0;
    const engine = await env.harness.start(
      [
        {
          id: 'resumed',
          handler: async (ctx: FlowContext) => {
            await ctx.memo('before', () => 'x');
            await ctx.sleep('nap', '50ms');
            // Fails once, then waits out a 30 ms backoff in a parked run: a third execution.
            await ctx.task('flaky', () => {
              if (++flakyCalls === 1) throw new Error('first attempt fails');
            }, { backoff: 30 });
            await ctx.task('after', () => undefined);
            return 'done';
          },
        },
      ],
      {
        interceptors: [
          {
            interceptStep: (info, next) => (steps.push(info), next()),
            interceptRun: async (info, next) => {
              const end = await next();
              runs.push({ info, end });
              return end;
            },
          },
        ],
      },
    );
    const { runId } = await engine.trigger('resumed');
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('completed');
    expect(steps.map((s) => `${s.kind} ${s.key}#${s.attempt}`)).toEqual(['memo before#1', 'task flaky#1', 'task flaky#2', 'task after#1']);
    expect(steps.every((s) => s.flowId === 'resumed' && s.runId === runId)).toBe(true);
    expect(runs.map(({ info, end }) => `${info.execution}:${end.status}`)).toEqual(['1:parked', '2:parked', '3:completed']);
    expect(runs.every(({ info }) => info.attempt === 1 && info.runId === runId && info.startedAt >= info.createdAt)).toBe(true);
    expect(run.executions).toBe(3);
  });

  it('fails the attempt when an interceptor throws, exactly as a throwing step: recorded, retried, then the run fails', async () => {
    let bodies = 0;
    const hookErrors: string[] = [];
    const engine = await env.harness.start(
      [
        {
          id: 'guarded',
          handler: async (ctx: FlowContext) => {
            await ctx.task('charge', () => void bodies++, { retries: 2, backoff: 0 });
            return 'charged';
          },
          hooks: { onError: [(_ctx, failure) => void hookErrors.push(`${failure.stepKey}#${failure.attempt}: ${failure.error.message}`)] },
        },
      ],
      {
        interceptors: [
          {
            async interceptStep(info, next) {
              // Refuses the first two attempts before the body, lets the third through.
              if (info.attempt < 3) throw new Error(`quota refused attempt ${info.attempt}`);
              return next();
            },
          },
        ],
      },
    );
    const { runId } = await engine.trigger('guarded');
    const run = await engine.waitForRun(runId);
    expect(run.status).toBe('completed');
    expect(bodies).toBe(1);
    const charge = run.steps.find((s) => s.key === 'charge')!;
    expect(charge.attempts).toBe(3);
    expect(charge.errors!.map((e) => `${e.attempt}: ${e.message}`)).toEqual(['1: quota refused attempt 1', '2: quota refused attempt 2']);
    expect(hookErrors).toEqual(['charge#1: quota refused attempt 1', 'charge#2: quota refused attempt 2']);

    // Always refusing: the retries run out and the run fails at that step, the body never ran.
    const refusing = await env.harness.start(
      [{ id: 'refused', handler: async (ctx: FlowContext) => ctx.task('charge', () => void bodies++, { retries: 1, backoff: 0 }) }],
      { interceptors: [{ interceptStep: async () => Promise.reject(new Error('never allowed')) }] },
    );
    bodies = 0;
    const failed = await refusing.waitForRun((await refusing.trigger('refused')).runId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual(expect.objectContaining({ name: 'StepFailedError', stepKey: 'charge' }));
    expect(failed.error!.message).toContain('never allowed');
    expect(bodies).toBe(0);
  });

  it('uses what interceptStep returns as the step result, recorded and replayed like the body\'s own', async () => {
    const engine = await env.harness.start(
      [
        {
          id: 'rewritten',
          handler: async (ctx: FlowContext) => {
            const price = await ctx.memo('price', () => 10);
            await ctx.sleep('nap', '20ms');
            return price;
          },
        },
      ],
      { interceptors: [{ interceptStep: async (_info, next) => ((await next()) as number) * 3 }] },
    );
    const run = await engine.waitForRun((await engine.trigger('rewritten')).runId);
    // 30 after the replay too: the interceptor ran once, its value is what was stored.
    expect(run.output).toBe(30);
    expect(run.steps.find((s) => s.key === 'price')!.result).toBe(30);
  });

  it('fails the attempt with InterceptorError when next() is called twice, and the body runs once', async () => {
    let bodies = 0;
    const engine = await env.harness.start(
      [{ id: 'twice', handler: async (ctx: FlowContext) => ctx.task('once', () => void bodies++, { retries: 0 }) }],
      { interceptors: [{ interceptStep: async (_info, next) => (await next(), next()) }] },
    );
    const run = await engine.waitForRun((await engine.trigger('twice')).runId);
    expect(run.status).toBe('failed');
    expect(run.error!.message).toContain('InterceptorError');
    expect(run.error!.message).toContain('called next() of interceptStep twice');
    expect(bodies).toBe(1);
  });

  it('runs the execution anyway, and logs why, when interceptRun throws first or never calls next()', async () => {
    const { errors, logger: log } = logger();
    const engine = await env.harness.start(
      [{ id: 'vetoed', handler: async (ctx: FlowContext) => ctx.memo('m', () => 'ran') }],
      {
        logger: log,
        interceptors: [
          { interceptRun: async (info) => { if (info.execution === 1) throw new Error('tracing backend down'); } },
        ],
      },
    );
    const run = await engine.waitForRun((await engine.trigger('vetoed')).runId);
    expect(run.status).toBe('completed');
    expect(run.output).toBe('ran');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('threw before calling next(): tracing backend down');
    expect(errors[0]).toContain('the execution runs anyway');

    const silent = await env.harness.start([{ id: 'vetoed', handler: async (ctx: FlowContext) => ctx.memo('m', () => 'ran too') }], {
      logger: log,
      interceptors: [{ interceptRun: async () => 'skipped' }],
    });
    const second = await silent.waitForRun((await silent.trigger('vetoed')).runId);
    expect(second.output).toBe('ran too');
    expect(errors).toHaveLength(2);
    expect(errors[1]).toContain('returned without calling next()');
  });

  it('wraps executions and attempts on the testing kit\'s memory backend too, so an interceptor can be tested without Redis', async () => {
    const log: string[] = [];
    const harness = await createTestEngine({
      flows: [
        {
          id: 'kit/nap',
          handler: async (ctx: FlowContext) => {
            await ctx.memo('a', () => 1);
            await ctx.sleep('nap', '1h');
            await ctx.task('b', () => undefined);
          },
        },
      ],
      interceptors: [recorder('only', log)],
    });
    try {
      const { runId } = await harness.trigger('kit/nap');
      await harness.runUntilIdle();
      await harness.advance('1h');
      expect((await harness.getRun(runId))!.status).toBe('completed');
      expect(log).toEqual([
        'only > run#1', 'only > memo a#1', 'only < a', 'only < run#1 parked',
        'only > run#2', 'only > task b#1', 'only < b', 'only < run#2 completed',
      ]);
    } finally {
      await harness.close();
    }
  });

  it('names a malformed interceptor at construction', () => {
    class NotAnInterceptor {
      intercept() {}
    }
    expect(() => new GoTickEngine({ interceptors: [new NotAnInterceptor() as never] })).toThrow(GoTickConfigError);
    expect(() => new GoTickEngine({ interceptors: [new NotAnInterceptor() as never] })).toThrow(
      'Invalid interceptors[0] (NotAnInterceptor): an object with an interceptRun(info, next) and/or interceptStep(info, next) method.',
    );
    expect(() => new GoTickEngine({ interceptors: { interceptStep: () => undefined } as never })).toThrow('Invalid interceptors object');
  });
});
