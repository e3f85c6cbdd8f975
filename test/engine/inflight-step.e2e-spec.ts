import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoTickConfigError, GoTickEngine, type EngineLogger, type FlowContext, type RunView } from '../../lib/engine';
import { RunKeys } from '../../lib/engine/redis/keys';
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
  it('a hung step (no timeout) shows in getRun as running within a third of the lease: attempt 1, when it started, and on which node', async () => {
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
      { shutdownTimeout: 100, worker: { lease: '3s' } },
    );
    const before = Date.now();
    const { runId } = await engine.trigger('hangs');
    await inside;
    const entering = Date.now();
    const run = await waitUntil(async () => {
      const view = await engine.getRun(runId);
      return stepOf(view, 'call-vendor') ? view : null;
    }, 'the hung step to show in the run view');
    // The heartbeat (every second under a 3 s lease) writes it: bounded generously by the lease itself.
    expect(Date.now() - entering).toBeLessThan(3000);

    expect(run.status).toBe('running');
    expect(run.steps.map((s) => [s.key, s.kind, s.status, s.attempts])).toEqual([
      ['ready', 'memo', 'completed', 1],
      ['call-vendor', 'task', 'running', 1],
    ]);
    const hung = stepOf(run, 'call-vendor')!;
    expect(Date.parse(hung.startedAt!)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(hung.startedAt!)).toBeLessThanOrEqual(entering);
    expectNodeOf(hung.node, process.pid);
    expect(hung.errors).toBeUndefined();
  });

  it('a step that returns within a heartbeat never writes a running marker: one write per step, its result', async () => {
    const engine = await env.harness.start(
      [{ id: 'quick', handler: async (ctx: FlowContext) => ctx.memo('fast', () => new Promise((resolve) => setTimeout(() => resolve('done'), 50))) }],
      { worker: { lease: '3s' } },
    );
    const commands: string[] = [];
    const monitor = await env.redis.client.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => void commands.push(args.join(' ')));
    const { runId } = await engine.trigger('quick');
    try {
      const run = await engine.waitForRun(runId, { timeout: '5s' });
      expect(run.status).toBe('completed');
      expect(stepOf(run, 'fast')).toMatchObject({ status: 'completed', attempts: 1 });
    } finally {
      monitor.disconnect();
    }
    // Every write of a step record names its field: step "fast" was written with its result, never as running.
    const writes = commands.filter((c) => c.includes('s:fast'));
    expect(writes.some((c) => c.includes('["m","c",1'))).toBe(true);
    expect(writes.filter((c) => c.includes('["m","g"'))).toEqual([]);
  });

  it('a marker written by the heartbeat never outlives its step: 400 steps racing a 166 ms heartbeat, none left running', async () => {
    const runs = 40;
    const steps = 10;
    const engine = await env.harness.start(
      [
        {
          id: 'racing',
          handler: async (ctx: FlowContext) => {
            for (let i = 0; i < steps; i++) {
              // 0-200 ms: some steps end before the next heartbeat, some after it marked them.
              await ctx.memo(`s${i}`, () => new Promise((resolve) => setTimeout(() => resolve(i), Math.floor(Math.random() * 200))));
            }
          },
        },
      ],
      { worker: { lease: '500ms', concurrency: runs } },
    );
    // Distinct markers (a script's first call is sent twice, EVALSHA then EVAL): each names its attempt's start time.
    const markers = new Set<string>();
    const monitor = await env.redis.client.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      for (let i = 0; i < args.length - 1; i++) if (args[i + 1].startsWith('["m","g"')) markers.add(`${args[i]} ${args[i + 1]}`);
    });
    try {
      const runIds = await Promise.all(Array.from({ length: runs }, async () => (await engine.trigger('racing')).runId));
      const done = await Promise.all(runIds.map((runId) => engine.waitForRun(runId, { timeout: '30s' })));
      const left = done.flatMap((run) => run.steps.filter((s) => s.status !== 'completed').map((s) => `${run.runId}/${s.key}:${s.status}`));
      console.log(`${runs * steps} steps racing the heartbeat: ${markers.size} marked by the heartbeat while in flight, ${left.length} steps not completed at the end`);
      expect(done.map((run) => run.status)).toEqual(Array(runs).fill('completed'));
      expect(left).toEqual([]);
      expect(done.every((run) => run.steps.length === steps && run.steps.every((s) => s.attempts === 1 && s.node === undefined))).toBe(true);
      // The race did happen: the heartbeat marked steps that then completed.
      expect(markers.size).toBeGreaterThan(0);
    } finally {
      monitor.disconnect();
    }
  }, 60_000);

  it.each([
    ['a connection URL', false],
    ['ioredis options with auto-pipelining on', true],
  ])('after a takeover, each attempt is marked in Redis before a body that blocks the event loop starts (given %s)', async (_, autoPipelining) => {
    const prefix = `blocked-body-${autoPipelining}`;
    const trigger = await startTriggerOnlyEngine(env.redis.url, prefix);
    const dir = mkdtempSync(join(tmpdir(), 'gotick-inflight-'));
    try {
      const doneFile = join(dir, 'block-ended');
      // A takes the run and blocks its event loop 9 s: no heartbeat, so its attempt is never marked. B takes the
      // run over when A's 1.5 s lease lapses and, as a takeover, marks its attempt before its body blocks in turn.
      const a = await startWorkerProcess({ url: env.redis.url, prefix, name: 'A', concurrency: 1, lease: '1500ms', autoPipelining });
      const { runId } = await trigger.trigger(WORKER_FLOWS.spin, { blockMs: 9000, doneFile });
      await waitUntil(async () => (await trigger.getRun(runId))?.executions === 1, 'A to claim the run');
      const b = await startWorkerProcess({ url: env.redis.url, prefix, name: 'B', concurrency: 1, lease: '1500ms', autoPipelining });
      const run = await waitUntil(async () => {
        const view = await trigger.getRun(runId);
        return stepOf(view, 'spin')?.node?.endsWith(`:${b.child.pid}`) ? view : null;
      }, "B's attempt to show in the run view", 20_000);
      // Written synchronously the moment B's block ends: absent now, so the marker reached Redis while B was blocked.
      expect(existsSync(`${doneFile}.B`)).toBe(false);
      expect(run.executions).toBe(2);
      expect(stepOf(run, 'spin')).toMatchObject({ kind: 'task', status: 'running', attempts: 1 });
      expectNodeOf(stepOf(run, 'spin')!.node, b.child.pid!);
      // A must not come back and take the run from B in turn (that is the livelock test's case).
      await a.kill();

      const done = await trigger.waitForRun(runId, { timeout: '20s' });
      expect(done.status).toBe('completed');
      expect(existsSync(`${doneFile}.B`)).toBe(true);
      // A's attempt was never marked (it blocked before any heartbeat), so it is not counted: B's is attempt 1.
      expect(stepOf(done, 'spin')).toMatchObject({ status: 'completed', attempts: 1 });
      // The finished record keeps no trace of the attempt in flight.
      expect(stepOf(done, 'spin')!.node).toBeUndefined();
    } finally {
      await trigger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

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
      { prefix, shutdownTimeout: 100, worker: { lease: '3s' } },
    );
    const { runId } = await first.trigger('handback');
    await inside;
    await waitUntil(async () => stepOf(await first.getRun(runId), 'slow')?.status === 'running', 'the attempt marker');
    await first.close();
    // Handed back: the step is as it was before the attempt (no record), not "running".
    expect(await env.redis.client.hget(new RunKeys(prefix).run(runId), 's:slow')).toBeNull();

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

  it('a run that ends (cancelled, timed out) under a step in flight shows it as before the attempt, never "running"', async () => {
    let timedOutAttempt = 0;
    const hang = (task: { signal: AbortSignal }) => new Promise<void>((resolve) => task.signal.addEventListener('abort', () => resolve()));
    const engine = await env.harness.start(
      [
        { id: 'to-cancel', handler: async (ctx: FlowContext) => ctx.task('hangs', hang) },
        {
          id: 'to-time-out',
          options: { timeout: '2s' },
          handler: async (ctx: FlowContext) =>
            ctx.task(
              'second-try-hangs',
              (task) => {
                timedOutAttempt = task.attempt;
                if (task.attempt === 1) throw new Error('first try fails');
                return hang(task);
              },
              { retries: 3, backoff: 0 },
            ),
        },
      ],
      { worker: { lease: '600ms' } },
    );
    const cancelled = (await engine.trigger('to-cancel')).runId;
    const timedOut = (await engine.trigger('to-time-out')).runId;
    await waitUntil(async () => stepOf(await engine.getRun(cancelled), 'hangs')?.status === 'running', 'the marker of "hangs"');
    await waitUntil(async () => stepOf(await engine.getRun(timedOut), 'second-try-hangs')?.attempts === 2, 'the marker of attempt 2');
    await engine.cancel(cancelled, { reason: 'enough' });

    const c = await engine.waitForRun(cancelled, { timeout: '5s' });
    expect(c.status).toBe('cancelled');
    expect(c.steps).toEqual([]);
    const t = await engine.waitForRun(timedOut, { timeout: '5s' });
    expect(t.status).toBe('failed');
    expect(t.error).toMatchObject({ name: 'FlowTimeoutError' });
    expect(timedOutAttempt).toBe(2);
    // Back to what attempt 1 left: a retry with its error, not attempt 2 "running" for ever.
    expect(t.steps.map((s) => [s.key, s.status, s.attempts, s.errors?.map((e) => e.message)])).toEqual([
      ['second-try-hangs', 'retrying', 1, ['first try fails']],
    ]);
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
    expect(() => new GoTickEngine({ defaults: { timeout: 'soon' as never } })).toThrow(GoTickConfigError);
    expect(() => new GoTickEngine({ defaults: { timeout: 0 } })).toThrow(/defaults\.timeout.*longer than 0/);
    const engine = new GoTickEngine({ connection: env.redis.url });
    expect(() => engine.register({ id: 'bad', options: { defaults: { timeout: -5 } }, handler: async () => 1 })).toThrow(
      /Invalid defaults\.timeout of flow "bad" -5/,
    );
  });
});
