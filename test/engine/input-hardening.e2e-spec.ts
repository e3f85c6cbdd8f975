import Redis from 'ioredis';
import { InvalidDurationError, type Duration, type FlowContext, type FlowDefinition, type GoTickEngine } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

/** A flow under test: one id, one handler. */
const flow = (id: string, handler: (ctx: FlowContext<any>) => unknown): FlowDefinition => ({ id, handler });

async function runToEnd(engine: GoTickEngine, flowId: string, input?: unknown) {
  const { runId } = await engine.trigger(flowId, input);
  return engine.waitForRun<any, any>(runId, { timeout: '10s' });
}

describe('bad input inside flows fails the run by name, and never breaks what other runs rely on', () => {
  const env = useEngines();

  describe('wake times past what the engine stores (year 9999)', () => {
    it.each([
      ['sleep 1e16 ms', (ctx: FlowContext) => ctx.sleep('k', 1e16)],
      ["sleep '300000y'", (ctx: FlowContext) => ctx.sleep('k', '300000y')],
      ['sleepUntil 1e20', (ctx: FlowContext) => ctx.sleepUntil('k', 1e20)],
      ['sleepUntil an Invalid Date', (ctx: FlowContext) => ctx.sleepUntil('k', new Date(NaN))],
    ])('%s fails the run with InvalidDurationError, even inside try/catch, and listing still works', async (_name, call) => {
      const engine = await env.harness.start([
        flow('far/sleep', async (ctx) => {
          try {
            await call(ctx);
          } catch {
            return 'swallowed'; // must not be reached: the run fails whatever the flow catches
          }
          return 'woke';
        }),
      ]);
      const run = await runToEnd(engine, 'far/sleep');
      expect(run.status).toBe('failed');
      expect(run.error).toMatchObject({ name: 'InvalidDurationError', stepKey: 'k' });
      expect(run.error!.message).toMatch(/time|longer than/);
      const page = await engine.listRuns({ flowId: 'far/sleep' });
      expect(page.runs.map((r) => r.status)).toEqual(['failed']);
    });

    it('a trigger delay past year 9999 is refused by name, and nothing is started', async () => {
      const engine = await env.harness.start([flow('far/delay', () => 1)]);
      for (const delay of [1e16, '300000y', '8000y'] as Duration[]) {
        await expect(engine.trigger('far/delay', undefined, { delay, runId: 'never' })).rejects.toThrow(InvalidDurationError);
      }
      expect(await engine.getRun('never')).toBeNull();
    });

    it('a record that already holds an out-of-range wake time does not break get, list or status=sleeping', async () => {
      const engine = await env.harness.start([flow('far/old', (ctx) => ctx.sleep('nap', '1h'))], { prefix: `far${process.pid}` });
      const { runId } = await engine.trigger('far/old');
      const redis = new Redis(env.redis.url);
      try {
        await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the run to sleep');
        // As written by a version that did not bound wake times.
        await redis.hset(`far${process.pid}:run:{${runId}}`, 'wakeAt', '1e20');
      } finally {
        redis.disconnect();
      }
      expect((await engine.getRun(runId))!.wakeAt).toBe('100000000000000000000');
      expect((await engine.listRuns({ flowId: 'far/old' })).runs).toHaveLength(1);
      expect((await engine.listRuns({ status: 'sleeping' })).runs.map((r) => r.runId)).toEqual([runId]);
    });
  });

  it('a step timeout of 2^31 ms or more does not fire at once (setTimeout overflow)', async () => {
    let attempts = 0;
    const engine = await env.harness.start([
      flow('long/timeout', (ctx) =>
        ctx.memo(
          'slow',
          async () => {
            attempts++;
            await new Promise((resolve) => setTimeout(resolve, 50));
            return 'done';
          },
          { timeout: 2 ** 31 },
        ),
      ),
      flow('longer/timeout', (ctx) => ctx.memo('slow', () => new Promise((resolve) => setTimeout(() => resolve('ok'), 20)), { timeout: '30d' })),
    ]);
    const run = await runToEnd(engine, 'long/timeout');
    expect(run.status).toBe('completed');
    expect(run.output).toBe('done');
    expect(attempts).toBe(1);
    expect((await runToEnd(engine, 'longer/timeout')).status).toBe('completed');
  });

  it('a step key holding a lone surrogate (text cut mid-emoji) fails the run with InvalidStepError', async () => {
    let ran = 0;
    const engine = await env.harness.start([
      flow('key/surrogate', async (ctx) => {
        await ctx.memo('ok-😀', () => 1); // a whole emoji is fine
        return ctx.memo('note:' + 'hi😀'.slice(0, 3), () => ++ran);
      }),
    ]);
    const run = await runToEnd(engine, 'key/surrogate');
    expect(run.status).toBe('failed');
    expect(run.error!.name).toBe('InvalidStepError');
    expect(run.error!.message).toMatch(/lone UTF-16 surrogate/);
    expect(ran).toBe(0);
    expect(run.steps.map((s: { key: string }) => s.key)).toEqual(['ok-😀']);
  });

  it.each([NaN, 0, -1, 1.5, Infinity, '2'])('ctx.wait concurrency %p fails the run with InvalidStepError and starts nothing', async (concurrency) => {
    let started = 0;
    const engine = await env.harness.start([
      flow('wait/bad', async (ctx) => {
        const futures = [1, 2, 3].map((n) => ctx.async(`f${n}`, () => ++started));
        return ctx.wait(futures, { concurrency: concurrency as number });
      }),
    ]);
    const run = await runToEnd(engine, 'wait/bad');
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ name: 'InvalidStepError' });
    expect(run.error!.message).toMatch(/concurrency must be a positive integer/);
    expect(started).toBe(0);
  });

  it('ctx.wait still accepts a positive integer or no concurrency', async () => {
    const engine = await env.harness.start([
      flow('wait/good', async (ctx) => {
        const a = await ctx.wait([1, 2, 3].map((n) => ctx.async(`a${n}`, () => n)), { concurrency: 2 });
        const b = await ctx.wait([4, 5].map((n) => ctx.async(`b${n}`, () => n)));
        return [...a, ...b];
      }),
    ]);
    expect((await runToEnd(engine, 'wait/good')).output).toEqual([1, 2, 3, 4, 5]);
  });

  it('a memo returning NaN, ±Infinity or -0 returns the same on replay as on the first run', async () => {
    const firsts: boolean[] = [];
    const engine = await env.harness.start([
      flow('num/replay', async (ctx) => {
        const values = await ctx.memo('odd', () => [NaN, Infinity, -Infinity, -0]);
        const alone = await ctx.memo('nan', () => NaN);
        const expected = [NaN, Infinity, -Infinity, -0];
        const same = values.every((v, i) => Object.is(v, expected[i])) && Number.isNaN(alone);
        await ctx.sleep('replay', 10); // the flow runs again from the top: both memos replay
        firsts.push(same);
        return same;
      }),
    ]);
    const run = await runToEnd(engine, 'num/replay');
    expect(run.status).toBe('completed');
    expect(firsts).toEqual([true]);
    expect(run.output).toBe(true);
  });

  it('a memo returning a Map fails the run with NotSerializableError naming the step', async () => {
    const engine = await env.harness.start([flow('map/memo', (ctx) => ctx.memo('lookup', () => new Map([['a', 1]])))]);
    const run = await runToEnd(engine, 'map/memo');
    expect(run.status).toBe('failed');
    expect(run.error!.message).toMatch(/Result of step "lookup" cannot be stored: a Map is not stored/);
  });

  it('input and results that spell the codec tag come back as they went in', async () => {
    const input = { '$gotick:date': '2020-01-01T00:00:00.000Z', nested: { '$gotick:date': 'not a date', '$$gotick:num': 'NaN' } };
    const engine = await env.harness.start([
      flow('tag/echo', async (ctx) => {
        const copy = await ctx.memo('copy', () => ({ ...ctx.input }));
        await ctx.sleep('replay', 10);
        return { input: ctx.input, copy };
      }),
    ]);
    const run = await runToEnd(engine, 'tag/echo', input);
    expect(run.status).toBe('completed');
    expect(run.input).toStrictEqual(input);
    expect(run.output).toStrictEqual({ input, copy: input });
  });
});

describe('cursor paging over runs created in the same millisecond by two instances', () => {
  const env = useEngines();

  it('pages 600 runs with equal timestamps at limit 1 and 7: none missed, none twice', async () => {
    const prefix = `page${process.pid}`;
    const noop = [flow('page/a', () => 1), flow('page/b', () => 1)];
    const one = await env.harness.start(noop, { prefix, worker: false });
    const two = await env.harness.start(noop, { prefix, worker: false });
    const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 0, 1));
    const created: string[] = [];
    try {
      // Both instances count their sub-millisecond sequence from 0: every score is shared by two runs.
      for (let i = 0; i < 300; i++) {
        const flowId = i % 3 === 0 ? 'page/b' : 'page/a';
        const [a, b] = await Promise.all([one.trigger(flowId, i, { runId: `one-${i}` }), two.trigger(flowId, i, { runId: `two-${i}` })]);
        created.push(a.runId, b.runId);
      }
    } finally {
      clock.mockRestore();
    }
    const ofA = created.filter((id) => Number(id.split('-')[1]) % 3 !== 0);

    for (const [flowId, expected] of [[undefined, created], ['page/a', ofA]] as const) {
      for (const limit of [1, 7]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await one.listRuns({ flowId, limit, cursor });
          seen.push(...page.runs.map((r) => r.runId));
          cursor = page.nextCursor;
        } while (cursor);
        expect(new Set(seen).size).toBe(seen.length); // none twice
        expect([...seen].sort()).toEqual([...expected].sort()); // none missed
      }
    }
  });

  it('still reads a cursor of the old numeric form, and refuses a malformed one by name', async () => {
    const engine = await env.harness.start([flow('page/old', () => 1)], { worker: false });
    for (let i = 0; i < 3; i++) await engine.trigger('page/old', i, { runId: `old-${i}` });
    const first = await engine.listRuns({ flowId: 'page/old', limit: 1 });
    expect(first.nextCursor).toMatch(/^\d+:old-2$/);
    const numeric = first.nextCursor!.split(':')[0];
    expect((await engine.listRuns({ flowId: 'page/old', cursor: numeric })).runs.map((r) => r.runId)).toEqual(['old-1', 'old-0']);
    await expect(engine.listRuns({ cursor: 'abc' })).rejects.toThrow(/malformed cursor "abc"/);
  });
});
