import { GoTickEngine, type FlowDefinition, type GoTickApi, type GoTickEngineOptions, type RunView } from '../../lib/engine';
import { createTestEngine, type GoTickTestHarness } from '../../lib/testing';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

/**
 * What the contract suite needs of a backend: an engine with some flows, and
 * ways to wait that mean the same on both. Only waiting differs: on Redis
 * time passes, on memory the harness moves the virtual clock.
 */
export interface ContractDriver {
  readonly name: 'redis' | 'memory';
  /** An engine (the GoTickApi the suite drives) with `flows`, closed after the test. */
  start(flows: FlowDefinition[], options?: GoTickEngineOptions): Promise<GoTickApi>;
  /** The time the engine reads (Date.now on Redis, the virtual clock on memory). */
  now(): number;
  /** The run once it has ended (time moves as needed). */
  finished(runId: string): Promise<RunView<any, any>>;
  /**
   * Lets time pass until `check` answers truthy (at most `maxMs` of it): on
   * Redis a poll with a deadline, on memory the virtual clock moved in steps.
   */
  until<T>(check: () => Promise<T>, what: string, maxMs?: number): Promise<NonNullable<T>>;
  /** The run once it reads `status`, without moving time. */
  reaches(runId: string, status: RunView['status']): Promise<RunView<any, any>>;
  closeAll(): Promise<void>;
}

/** Shared defaults: short backoffs, so the Redis run of the suite stays quick. */
const DEFAULTS: GoTickEngineOptions = { defaults: { retries: 3, backoff: 20 }, logLevel: 'silent' };

let counter = 0;

async function pollStatus(api: GoTickApi, runId: string, status: RunView['status']): Promise<RunView<any, any>> {
  return waitUntil(async () => {
    const run = await api.getRun(runId);
    return run?.status === status ? run : undefined;
  }, `run ${runId} to be ${status}`, 10_000);
}

export function redisDriver(): ContractDriver & { setUp(): Promise<void>; tearDown(): Promise<void> } {
  let redis: TestRedis | undefined;
  const engines: GoTickEngine[] = [];
  return {
    name: 'redis',
    async setUp() {
      redis = await startRedis();
    },
    async tearDown() {
      await redis?.stop();
    },
    async start(flows, options = {}) {
      const engine = new GoTickEngine({ connection: redis!.url, prefix: `c${process.pid}x${++counter}`, ...DEFAULTS, ...options });
      for (const flow of flows) engine.register(flow);
      await engine.start();
      engines.push(engine);
      return engine;
    },
    now: () => Date.now(),
    until: (check, what, maxMs = 15_000) => waitUntil(check, what, maxMs),
    finished(runId) {
      return engines[engines.length - 1].waitForRun(runId, { timeout: '20s' });
    },
    reaches(runId, status) {
      return pollStatus(engines[engines.length - 1], runId, status);
    },
    async closeAll() {
      await Promise.all(engines.splice(0).map((engine) => engine.close()));
    },
  };
}

export function memoryDriver(): ContractDriver & { setUp(): Promise<void>; tearDown(): Promise<void> } {
  const harnesses: GoTickTestHarness[] = [];
  const current = () => harnesses[harnesses.length - 1];
  return {
    name: 'memory',
    setUp: async () => undefined,
    tearDown: async () => undefined,
    async start(flows, options = {}) {
      const { connection: _c, partitions: _p, connectTimeout: _t, commandTimeout: _ct, ...rest } = { ...DEFAULTS, ...options };
      const harness = await createTestEngine({ ...rest, flows });
      harnesses.push(harness);
      return harness;
    },
    now: () => current().now(),
    async until(check, what, maxMs = 15_000) {
      const harness = current();
      const until = harness.now() + maxMs;
      for (;;) {
        await harness.runUntilIdle();
        const value = await check();
        if (value) return value as NonNullable<Awaited<typeof value>>;
        if (harness.now() >= until) throw new Error(`${what}: still not so after ${maxMs} ms of virtual time`);
        await harness.advance('50ms');
      }
    },
    finished(runId) {
      return current().waitForRun(runId, { timeout: '30d' });
    },
    reaches(runId, status) {
      return pollStatus(current(), runId, status);
    },
    async closeAll() {
      await Promise.all(harnesses.splice(0).map((harness) => harness.close()));
    },
  };
}
