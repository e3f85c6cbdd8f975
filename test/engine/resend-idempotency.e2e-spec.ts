import { NonRetriableError, type EngineLogger, type FlowContext, type FlowDefinition } from '../../lib/engine';
import { EngineHarness } from '../support/engine-harness';
import { startRedis, type TestRedis } from '../support/redis-server';
import { scriptCall, startReplyDroppingProxy, type ReplyDroppingProxy } from '../support/reply-dropping-proxy';
import { waitUntil } from '../support/wait-until';

/**
 * A reply lost on the wire: the script ran on Redis, the client never heard,
 * its connection dropped, and ioredis re-sent the script after reconnecting.
 * Each script must answer its own resend as it answered the first call.
 */
describe('scripts re-sent by ioredis after a lost reply', () => {
  let redis: TestRedis;
  let proxy: ReplyDroppingProxy;
  let harness: EngineHarness;
  const warnings: string[] = [];
  const logger: EngineLogger = { log: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  // The proxy cuts connections on purpose: the engine saying so (once per outage), a reconciler pass that meets the
  // store client mid-reconnect, the once-per-flow "no step timeout" notice, and the failing flow's own lines (its
  // failed attempt and run, logged at warn) are expected; anything else is not.
  const expected = /^(Reconciler pass failed \(will retry\)|Redis unreachable at |Redis reachable again after )| with no timeout: /;
  const unexpected = () => warnings.filter((w) => !expected.test(w) && !w.includes(' of flow "broken"'));

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startReplyDroppingProxy(redis.port);
    harness = new EngineHarness(proxy.url);
  });
  afterEach(async () => {
    await harness.closeAll();
    warnings.length = 0;
  });
  afterAll(async () => {
    await proxy.close();
    await redis.stop();
  });

  it('finish: OnFlowSuccess and OnFlowFail are called exactly once per run although finish ran twice', async () => {
    const succeeded = new Map<string, number>();
    const failed = new Map<string, number>();
    const count = (map: Map<string, number>, runId: string) => map.set(runId, (map.get(runId) ?? 0) + 1);
    const flows: FlowDefinition[] = [
      {
        id: 'ok',
        handler: async (ctx: FlowContext<number>) => ctx.memo('double', async () => ctx.input * 2),
        hooks: { onSuccess: [(ctx) => void count(succeeded, ctx.runId)] },
      },
      {
        id: 'broken',
        handler: async (ctx: FlowContext) =>
          ctx.task('refuse', async () => {
            throw new NonRetriableError('no');
          }),
        hooks: { onFail: [(ctx) => void count(failed, ctx.runId)] },
      },
    ];
    const engine = await harness.start(flows, { logger });
    const runs: Array<{ runId: string; flowId: string }> = [];
    for (let i = 0; i < 20; i++) {
      const flowId = i % 2 === 0 ? 'ok' : 'broken';
      const lost = proxy.dropReplyTo(scriptCall('finish-n.lua'));
      const { runId } = await engine.trigger(flowId, i);
      await lost;
      runs.push({ runId, flowId });
      const run = await engine.waitForRun(runId, { timeout: '10s' });
      expect(run.status).toBe(flowId === 'ok' ? 'completed' : 'failed');
      await waitUntil(() => (flowId === 'ok' ? succeeded : failed).get(runId), `the hook of run ${i}`, 5000);
    }
    expect(proxy.dropped).toBeGreaterThanOrEqual(20);
    // Exactly once: a hook still to come for a resend would have had every later run's time to show up.
    for (const { runId, flowId } of runs) {
      expect({ runId, calls: (flowId === 'ok' ? succeeded : failed).get(runId) }).toEqual({ runId, calls: 1 });
    }
    expect(unexpected()).toEqual([]);
  });

  it('suspend: the resume job is still added, so a 300 ms sleep wakes without the reconciler', async () => {
    const engine = await harness.start(
      [
        {
          id: 'napper',
          handler: async (ctx: FlowContext) => {
            await ctx.sleep('nap', 300);
            return 'woke';
          },
        },
      ],
      { logger },
    );
    for (let i = 0; i < 8; i++) {
      const lost = proxy.dropReplyTo(scriptCall('suspend-1.lua'));
      const { runId } = await engine.trigger('napper');
      await lost;
      // The reconciler only looks 5 s past the wake time: finishing well before proves the resume job did it.
      const run = await engine.waitForRun(runId, { timeout: '3s' });
      expect(run.output).toBe('woke');
      expect(run.executions).toBe(2);
    }
    expect(unexpected()).toEqual([]);
  });

  it('park for the timer pump: a resent or repeated park answers "parked", and the run wakes on time, once', async () => {
    const parkedLogs: string[] = [];
    const engine = await harness.start(
      [{ id: 'long-napper', handler: async (ctx: FlowContext) => (await ctx.sleep('nap', 1200), 'woke') }],
      { logger: { ...logger, debug: (m: string) => void (/ parked until /.test(m) && parkedLogs.push(m)) }, logLevel: 'debug' },
    );
    for (const downMs of [undefined, 400, undefined, 400]) {
      const lost = proxy.dropReplyTo(scriptCall('park-timed-3.lua'), downMs ? { downMs } : undefined);
      const began = Date.now();
      const { runId } = await engine.trigger('long-napper');
      await lost;
      const run = await engine.waitForRun(runId, { timeout: '4s' });
      expect({ output: run.output, executions: run.executions }).toEqual({ output: 'woke', executions: 2 });
      // Heard as parked by this node (a "lease lost" answer would skip that): woken by its own pump's timer.
      expect(Date.now() - began).toBeLessThan(3000);
    }
    expect(parkedLogs.length).toBe(4);
    expect(unexpected()).toEqual([]);
  });

  it('finish and suspend: when ioredis gives up on the command instead of re-sending it, the engine repeats it and hooks still run once', async () => {
    const succeeded = new Map<string, number>();
    const engine = await harness.start(
      [
        {
          id: 'nap-then-done',
          handler: async (ctx: FlowContext) => {
            await ctx.sleep('nap', 200);
            return 'done';
          },
          hooks: { onSuccess: [(ctx) => void succeeded.set(ctx.runId, (succeeded.get(ctx.runId) ?? 0) + 1)] },
        },
      ],
      { logger },
    );
    for (const script of ['suspend-1.lua', 'finish-n.lua']) {
      for (let i = 0; i < 3; i++) {
        // Redis "away" for 400 ms after the lost reply: ioredis' reconnect is refused and it fails the command.
        const lost = proxy.dropReplyTo(scriptCall(script), { downMs: 400 });
        const { runId } = await engine.trigger('nap-then-done');
        await lost;
        // Well inside the reconciler's 5 s grace: the engine's own repeat concluded the execution.
        const run = await engine.waitForRun(runId, { timeout: '3s' });
        expect(run.output).toBe('done');
        await waitUntil(() => succeeded.get(runId), `the success hook after a lost ${script}`, 5000);
        expect({ script, hooks: succeeded.get(runId), executions: run.executions }).toEqual({ script, hooks: 1, executions: 2 });
      }
    }
    // No run needed the reconciler's help.
    expect(unexpected()).toEqual([]);
  });

  it('create: the only trigger of a run hears created: true, and the run runs once', async () => {
    let executions = 0;
    const engine = await harness.start(
      [
        {
          id: 'once',
          handler: async (ctx: FlowContext<number>) => {
            executions++;
            return ctx.input;
          },
        },
      ],
      { logger },
    );
    for (let i = 0; i < 20; i++) {
      const lost = proxy.dropReplyTo(scriptCall('create-indexed-3.lua'));
      const result = await engine.trigger('once', i, { runId: `create-resend-${i}` });
      await lost;
      expect(result).toEqual({ runId: `create-resend-${i}`, created: true });
      expect((await engine.waitForRun(result.runId, { timeout: '10s' })).output).toBe(i);
      // Another trigger of the same id is still told the truth.
      expect(await engine.trigger('once', i, { runId: `create-resend-${i}` })).toEqual({ runId: `create-resend-${i}`, created: false });
    }
    expect(executions).toBe(20);
  });

  it('claim and save-steps: a resend neither counts a second execution nor runs a step again', async () => {
    let calls = 0;
    const engine = await harness.start(
      [
        {
          id: 'stepper',
          handler: async (ctx: FlowContext) => {
            const a = await ctx.memo('a', async () => ++calls);
            const b = await ctx.memo('b', async () => ++calls);
            return a + b;
          },
        },
      ],
      { logger },
    );
    for (const script of ['claim-1.lua', 'save-steps-1.lua']) {
      for (let i = 0; i < 5; i++) {
        calls = 0;
        const lost = proxy.dropReplyTo(scriptCall(script));
        const { runId } = await engine.trigger('stepper');
        await lost;
        const run = await engine.waitForRun(runId, { timeout: '10s' });
        expect({ script, output: run.output, executions: run.executions, calls }).toEqual({ script, output: 3, executions: 1, calls: 2 });
      }
    }
    expect(unexpected()).toEqual([]);
  });
});
