import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoTickConfigError, GoTickEngine, type EngineLogger, type FlowContext, type RunView } from '../../lib/engine';
import { WORKER_FLOWS, startTriggerOnlyEngine, startWorkerProcess, killAllWorkerProcesses } from '../support/child-worker';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

/**
 * "Why is this run stuck?" (issue 13, item 15): a step in flight is visible in
 * the run view (key, kind, attempt, since when, on which node), a step that
 * hangs can be bounded by defaults.timeout, and a flow running steps with no
 * timeout at all is pointed out once.
 */
const env = useEngines();
afterEach(() => killAllWorkerProcesses());

function stepOf(run: RunView | null, key: string) {
  return run?.steps.find((s) => s.key === key);
}

/** A node id names the host (its first label, or that label's end) and the process. */
function expectNodeOf(node: string | undefined, pid: number): void {
  const [host, ownPid] = (node ?? '').split(':');
  expect(ownPid).toBe(String(pid));
  expect(host.length).toBeGreaterThan(0);
  expect(hostname()).toContain(host);
}

describe('a step in flight', () => {
  it('a hung step (no timeout) shows in getRun as running: attempt 1, when it started, and on which node', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const engine = await env.harness.start(
      [
        {
          id: 'hangs',
          handler: async (ctx: FlowContext) => {
            await ctx.memo('ready', () => 'yes');
            await ctx.task('call-vendor', () => {
              entered();
              return new Promise<never>(() => undefined);
            });
          },
        },
      ],
      { shutdownTimeout: 100 },
    );
    const before = Date.now();
    const { runId } = await engine.trigger('hangs');
    await inside;
    const run = await waitUntil(async () => {
      const view = await engine.getRun(runId);
      return stepOf(view, 'call-vendor') ? view : null;
    }, 'the hung step to show in the run view');

    expect(run.status).toBe('running');
    expect(run.steps.map((s) => [s.key, s.kind, s.status, s.attempts])).toEqual([
      ['ready', 'memo', 'completed', 1],
      ['call-vendor', 'task', 'running', 1],
    ]);
    const hung = stepOf(run, 'call-vendor')!;
    expect(Date.parse(hung.startedAt!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(hung.startedAt!)).toBeLessThanOrEqual(Date.now());
    expectNodeOf(hung.node, process.pid);
    expect(hung.errors).toBeUndefined();
  });

  it.each([
    ['a connection URL', false],
    ['ioredis options with auto-pipelining on', true],
  ])('is marked in Redis before a body that blocks the event loop starts (given %s)', async (_, autoPipelining) => {
    const prefix = `blocked-body-${autoPipelining}`;
    const trigger = await startTriggerOnlyEngine(env.redis.url, prefix);
    const dir = mkdtempSync(join(tmpdir(), 'gotick-inflight-'));
    try {
      // A lease far longer than the block: nobody takes the run over, the step just blocks its node.
      const node = await startWorkerProcess({ url: env.redis.url, prefix, name: 'blocked', concurrency: 1, lease: '30s', autoPipelining });
      const doneFile = join(dir, 'block-ended');
      const { runId } = await trigger.trigger(WORKER_FLOWS.spin, { blockMs: 3000, doneFile });
      const run = await waitUntil(async () => {
        const view = await trigger.getRun(runId);
        return stepOf(view, 'spin') ? view : null;
      }, 'the blocking step to show in the run view', 10_000);
      // Written synchronously the moment the block ends: absent now, so the marker reached Redis while the node was blocked.
      expect(existsSync(doneFile)).toBe(false);
      expect(stepOf(run, 'spin')).toMatchObject({ kind: 'task', status: 'running', attempts: 1 });
      expectNodeOf(stepOf(run, 'spin')!.node, node.child.pid!);

      const done = await trigger.waitForRun(runId, { timeout: '15s' });
      expect(done.status).toBe('completed');
      expect(existsSync(doneFile)).toBe(true);
      expect(stepOf(done, 'spin')).toMatchObject({ status: 'completed', attempts: 1 });
      // The finished record keeps no trace of the attempt in flight.
      expect(stepOf(done, 'spin')!.node).toBeUndefined();
    } finally {
      await trigger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a run handed back at shutdown does not count its interrupted attempt as lost: the next node runs attempt 1 again', async () => {
    const prefix = 'handback';
    const attempts: Array<[string, number]> = [];
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = await env.harness.start(
      [
        {
          id: 'handback',
          handler: async (ctx: FlowContext) => {
            await ctx.task('slow', (task) => {
              attempts.push(['first', task.attempt]);
              entered();
              return new Promise<never>(() => undefined);
            }, { retries: 0 });
          },
        },
      ],
      { prefix, shutdownTimeout: 100, worker: { lease: '60s' } },
    );
    const { runId } = await first.trigger('handback');
    await inside;
    await waitUntil(async () => stepOf(await first.getRun(runId), 'slow')?.status === 'running', 'the attempt marker');
    await first.close();

    const second = await env.harness.start(
      [{ id: 'handback', handler: async (ctx: FlowContext) => ctx.task('slow', (task) => void attempts.push(['second', task.attempt]), { retries: 0 }) }],
      { prefix, worker: { lease: '60s' } },
    );
    // retries: 0 — had the hand-back counted as a failed attempt, the run would fail here.
    const run = await second.waitForRun(runId, { timeout: '10s' });
    expect(run.status).toBe('completed');
    expect(attempts).toEqual([['first', 1], ['second', 1]]);
    expect(stepOf(run, 'slow')).toMatchObject({ status: 'completed', attempts: 1 });
    expect(stepOf(run, 'slow')!.errors).toBeUndefined();
  });
});

describe('defaults.timeout', () => {
  function recordingLogger(): EngineLogger & { warnings: string[] } {
    const warnings: string[] = [];
    return { warnings, log: () => undefined, warn: (message) => void warnings.push(message), error: () => undefined };
  }

  it('bounds every attempt of a step that sets no timeout of its own; a step\'s own timeout and a flow\'s default come first', async () => {
    const engine = await env.harness.start(
      [
        {
          id: 'engine-default',
          handler: async (ctx: FlowContext) => ctx.task('hangs', () => new Promise<never>(() => undefined), { retries: 1, backoff: 0 }),
        },
        {
          id: 'own-timeout',
          // 300 ms beats the engine's 100 ms: the step returns after 150 ms.
          handler: async (ctx: FlowContext) => ctx.memo('slowish', () => new Promise((resolve) => setTimeout(() => resolve('made it'), 150)), { timeout: 300 }),
        },
        {
          id: 'flow-default',
          options: { defaults: { timeout: '1s', retries: 0 } },
          handler: async (ctx: FlowContext) => ctx.memo('slowish', () => new Promise((resolve) => setTimeout(() => resolve('made it'), 150))),
        },
      ],
      { defaults: { timeout: 100, retries: 3, backoff: 0 } },
    );
    const hung = await engine.waitForRun((await engine.trigger('engine-default')).runId, { timeout: '5s' });
    expect(hung.status).toBe('failed');
    expect(hung.error).toMatchObject({ name: 'StepFailedError', stepKey: 'hangs' });
    expect(hung.steps[0].errors!.map((e) => [e.name, e.attempt, e.message])).toEqual([
      ['StepTimeoutError', 1, 'Step "hangs" timed out after 100 ms.'],
      ['StepTimeoutError', 2, 'Step "hangs" timed out after 100 ms.'],
    ]);
    expect((await engine.waitForRun((await engine.trigger('own-timeout')).runId, { timeout: '5s' })).output).toBe('made it');
    expect((await engine.waitForRun((await engine.trigger('flow-default')).runId, { timeout: '5s' })).output).toBe('made it');
  });

  it('without it, the first attempt that runs with no timeout warns once per flow; timed steps never warn', async () => {
    const logger = recordingLogger();
    const engine = await env.harness.start(
      [
        {
          id: 'untimed',
          handler: async (ctx: FlowContext) => {
            await ctx.task('one', () => undefined);
            await ctx.sleep('pause', 1);
            await ctx.task('two', () => undefined);
          },
        },
        { id: 'untimed-too', handler: async (ctx: FlowContext) => ctx.memo('only', () => 1) },
        { id: 'timed', handler: async (ctx: FlowContext) => ctx.memo('bounded', () => 1, { timeout: '5s' }) },
        { id: 'flow-timed', options: { defaults: { timeout: '5s' } }, handler: async (ctx: FlowContext) => ctx.memo('bounded', () => 1) },
      ],
      { logger },
    );
    // Three runs of the untimed flow, each resumed after a sleep (several executions): still one warning.
    for (const flowId of ['untimed', 'untimed', 'untimed', 'untimed-too', 'timed', 'flow-timed']) {
      expect((await engine.waitForRun((await engine.trigger(flowId)).runId, { timeout: '5s' })).status).toBe('completed');
    }
    expect(logger.warnings.filter((w) => w.includes('no timeout'))).toEqual([
      expect.stringMatching(/^Flow "untimed" ran step "one" with no timeout: .*Set defaults\.timeout/),
      expect.stringMatching(/^Flow "untimed-too" ran step "only" with no timeout/),
    ]);
  });

  it('refuses a timeout that is not a positive duration, at construction and at registration', async () => {
    expect(() => new GoTickEngine({ defaults: { timeout: 'soon' } })).toThrow(GoTickConfigError);
    expect(() => new GoTickEngine({ defaults: { timeout: 0 } })).toThrow(/defaults\.timeout.*longer than 0/);
    const engine = new GoTickEngine({ connection: env.redis.url });
    expect(() => engine.register({ id: 'bad', options: { defaults: { timeout: -5 } }, handler: async () => 1 })).toThrow(
      /Invalid defaults\.timeout of flow "bad" -5/,
    );
  });
});
