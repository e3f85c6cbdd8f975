import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BullmqRunQueue } from '../../lib/engine/bullmq/run-queue';
import { createClient } from '../../lib/engine/redis/connection';
import { GoTickConfigError, GoTickEngine, RedisUnavailableError, WaitForRunTimeoutError, type FlowContext, type GoTickEngineOptions, type Duration } from '../../lib/engine';
import { EngineHarness } from '../support/engine-harness';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

/** Milliseconds `promise` took to settle, and how (never rejects). */
async function timed(promise: Promise<unknown>): Promise<{ ms: number; error?: unknown }> {
  const started = Date.now();
  try {
    await promise;
    return { ms: Date.now() - started };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

describe('a Redis outage', () => {
  let redis: TestRedis;
  let harness: EngineHarness;
  let stepStarted: Set<string>;

  /** A flow whose one task never returns: an execution "mid-step" for as long as the test likes. */
  const stuck = {
    id: 'outage/stuck',
    handler: async (ctx: FlowContext) => {
      await ctx.task('forever', () => {
        stepStarted.add(ctx.runId);
        return new Promise<never>(() => undefined);
      });
    },
  };

  beforeEach(async () => {
    stepStarted = new Set();
    redis = await startRedis();
    harness = new EngineHarness(redis.url);
  });
  afterEach(async () => {
    await redis.thaw();
    await harness.closeAll();
    await redis.stop();
  });

  async function engineMidStep(options: ConstructorParameters<typeof GoTickEngine>[0] = {}): Promise<GoTickEngine> {
    const engine = await harness.start([stuck], { shutdownTimeout: '2s', ...options });
    const { runId } = await engine.trigger(stuck.id);
    await waitUntil(() => stepStarted.has(runId), 'the step to start');
    return engine;
  }

  describe('does not hold close() past shutdownTimeout', () => {
    it('with Redis SIGKILLed while a run is mid-step', async () => {
      const engine = await engineMidStep();
      await redis.kill();
      const { ms, error } = await timed(engine.close());
      expect(error).toBeUndefined();
      // The grace period is still given to the step (it might have finished), then nothing waits on Redis.
      expect(ms).toBeGreaterThanOrEqual(1900);
      expect(ms).toBeLessThan(5000);
    });

    it('with Redis frozen (SIGSTOP) while a run is mid-step', async () => {
      const engine = await engineMidStep();
      await redis.freeze();
      const { ms, error } = await timed(engine.close());
      expect(error).toBeUndefined();
      expect(ms).toBeGreaterThanOrEqual(1900);
      expect(ms).toBeLessThan(5000);
    });

    it('with Redis frozen and no run in hand', async () => {
      const engine = await harness.start([stuck], { shutdownTimeout: '2s' });
      await redis.freeze();
      const { ms, error } = await timed(engine.close());
      expect(error).toBeUndefined();
      expect(ms).toBeLessThan(5000);
    });

    it('and with Redis healthy a mid-step run is handed back at the deadline, not after its lease', async () => {
      const prefix = `outage-handback-${process.pid}`;
      const engine = await engineMidStep({ prefix, worker: { lease: '60s' } });
      const [runId] = [...stepStarted];
      const { ms } = await timed(engine.close());
      expect(ms).toBeGreaterThanOrEqual(1900);
      expect(ms).toBeLessThan(5000);
      // Handed back: queued with no lease holder, so another node claims it now rather than in 60 s.
      const [status, lease] = await redis.client.hmget(`${prefix}:run:{${runId}}`, 'status', 'lease');
      expect({ status, lease }).toEqual({ status: 'queued', lease: null });
    });

    it('hands a mid-step run back to the next node at once, 20 times in a row', async () => {
      const prefix = `outage-relay-${process.pid}`;
      const starts: string[] = [];
      const relay = {
        id: 'outage/relay',
        handler: async (ctx: FlowContext) => {
          await ctx.task('forever', () => {
            starts.push(ctx.runId);
            return new Promise<never>(() => undefined);
          });
        },
      };
      // A 60 s lease: a run that was not handed back would stay out of reach for the whole test.
      const options: GoTickEngineOptions = { prefix, shutdownTimeout: '200ms', worker: { lease: '60s' } };
      let node = await harness.start([relay], options);
      const { runId } = await node.trigger(relay.id);
      for (let round = 1; round <= 20; round++) {
        await waitUntil(() => starts.length === round, `start ${round} of the step`, 5000);
        await node.close();
        const [status, lease] = await redis.client.hmget(`${prefix}:run:{${runId}}`, 'status', 'lease');
        expect({ round, status, lease }).toEqual({ round, status: 'queued', lease: null });
        node = await harness.start([relay], options);
      }
      expect(starts.every((id) => id === runId)).toBe(true);
    });
  });

  describe('with Redis frozen, every call made for a caller is bounded', () => {
    it('trigger, getRun and listRuns fail with RedisUnavailableError within commandTimeout', async () => {
      const engine = await harness.start([stuck], { commandTimeout: '1s', worker: false });
      const { runId } = await engine.trigger(stuck.id);
      await redis.freeze();
      const calls = await Promise.all([
        timed(engine.trigger(stuck.id)),
        timed(engine.trigger(stuck.id, undefined, { runId })),
        timed(engine.getRun(runId)),
        timed(engine.listRuns({ flowId: stuck.id })),
        timed(engine.listRuns()),
      ]);
      for (const { ms, error } of calls) {
        expect(error).toBeInstanceOf(RedisUnavailableError);
        expect(ms).toBeGreaterThanOrEqual(900);
        expect(ms).toBeLessThan(3000);
      }
    });

    it('a trigger that reaches BullMQ is bounded too (the producer connection)', async () => {
      const prefix = `outage-producer-${process.pid}`;
      const producer = createClient(redis.url, { maxRetriesPerRequest: 1, commandTimeout: 1000 });
      producer.on('error', () => undefined);
      const queue = new BullmqRunQueue({
        prefix,
        producer,
        consumer: () => createClient(redis.url, { maxRetriesPerRequest: null }),
        concurrency: 1,
        lockMs: 30_000,
        partitions: 1,
        cluster: false,
        onError: () => undefined,
      });
      try {
        await queue.enqueueNew('before-freeze', 0);
        await redis.freeze();
        const { ms, error } = await timed(queue.enqueueNew('during-freeze', 0));
        expect(error).toBeInstanceOf(RedisUnavailableError);
        expect(ms).toBeLessThan(3000);
      } finally {
        await redis.thaw();
        await queue.close();
        producer.disconnect();
      }
    });

    it('waitForRun({ timeout: 1s }) rejects with WaitForRunTimeoutError at its deadline', async () => {
      // A commandTimeout far past the wait's deadline: only the deadline can end the wait in time.
      const engine = await engineMidStep({ commandTimeout: '30s' });
      const [runId] = [...stepStarted];
      await redis.freeze();
      const { ms, error } = await timed(engine.waitForRun(runId, { timeout: '1s' }));
      expect(error).toBeInstanceOf(WaitForRunTimeoutError);
      expect(ms).toBeGreaterThanOrEqual(950);
      expect(ms).toBeLessThan(1500);
    });
  });

  it('commandTimeout must be a positive duration (0 would mean "wait forever" to ioredis)', () => {
    for (const commandTimeout of [0, -1, 'soon', Number.NaN, '30d']) {
      expect(() => new GoTickEngine({ commandTimeout: commandTimeout as Duration })).toThrow(GoTickConfigError);
    }
    expect(() => new GoTickEngine({ commandTimeout: 0 })).toThrow(/commandTimeout/);
    expect(() => new GoTickEngine({ commandTimeout: '250ms' })).not.toThrow();
  });
});

describe('a process whose Redis goes away', () => {
  let redis: TestRedis;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await redis.stop();
  });

  /** Starts test/fixtures/outage-logger.ts; its stdout and stderr accumulate in the returned object. */
  async function startNode(): Promise<{ out: string; err: string; exited: Promise<number | null> }> {
    const root = join(__dirname, '..', '..');
    child = spawn(process.execPath, ['-r', '@swc-node/register', join(root, 'test', 'fixtures', 'outage-logger.ts')], {
      cwd: root,
      env: { ...process.env, GOTICK_URL: redis.url, GOTICK_PREFIX: `outage-log-${process.pid}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const node = { out: '', err: '', exited: new Promise<number | null>((resolve) => child!.once('exit', resolve)) };
    child.stdout!.on('data', (chunk: Buffer) => (node.out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (node.err += chunk.toString()));
    await waitUntil(() => node.out.includes('READY\n') || child!.exitCode !== null, 'the node to start', 20_000);
    expect(node.out).toContain('READY');
    return node;
  }

  const count = (text: string, pattern: RegExp) => text.split('\n').filter((row) => pattern.test(row)).length;

  it('logs one warn per outage and one line when Redis is back, nothing on stderr, and exits on SIGTERM with Redis dead', async () => {
    const node = await startNode();
    const outages: Array<() => Promise<void>> = [() => redis.shutdown(), () => redis.kill()];
    for (const [i, takeDown] of outages.entries()) {
      await takeDown();
      await waitUntil(() => count(node.out, /^WARN Redis unreachable at /) === i + 1, `the warn of outage ${i + 1}`);
      // Deliberately long: ioredis retries every 50-2000 ms on each of the node's clients, so
      // in 2.5 s there are dozens of failed reconnects, each of which used to print a stack.
      await delay(2500);
      await redis.boot();
      await waitUntil(() => count(node.out, /^LOG Redis reachable again after \d+(\.\d+)? s$/) === i + 1, `the recovery line of outage ${i + 1}`);
    }
    expect(count(node.out, /^WARN Redis unreachable at redis:\/\/127\.0\.0\.1:\d+: .+; retrying$/)).toBe(2);
    expect(count(node.out, /^WARN /)).toBe(2);
    expect(count(node.out, /^ERROR /)).toBe(0);
    expect(node.err).not.toMatch(/Unhandled error event/);
    expect(node.err).toBe('');

    // SIGTERM with Redis dead: close() gives up on Redis after the grace period and leaves nothing that keeps
    // the process alive for long (BullMQ's watchdog on its last blocking read runs out within drainDelay + 1 s).
    await redis.kill();
    child!.kill('SIGTERM');
    const code = await Promise.race([node.exited, delay(12_000).then(() => 'still running')]);
    expect(code).toBe(0);
    const closedIn = Number(/CLOSED in (\d+) ms/.exec(node.out)?.[1]);
    expect(closedIn).toBeLessThan(4000);
    expect(node.err).toBe('');
  });
});
