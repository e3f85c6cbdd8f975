import { GoTickEngine, type FlowDefinition, type GoTickEngineOptions, type RedisConnection } from '../../lib/engine';
import { startRedis, type TestRedis } from './redis-server';

let counter = 0;

/** An engine on its own prefix, with short backoffs, that the harness closes after each test. */
export class EngineHarness {
  private readonly engines: GoTickEngine[] = [];

  constructor(private readonly connection: RedisConnection) {}

  async start(flows: FlowDefinition[], options: GoTickEngineOptions = {}): Promise<GoTickEngine> {
    const engine = new GoTickEngine({
      connection: this.connection,
      prefix: options.prefix ?? `t${process.pid}x${++counter}`,
      defaults: { retries: 3, backoff: 20 },
      ...options,
    });
    for (const flow of flows) engine.register(flow);
    await engine.start();
    this.engines.push(engine);
    return engine;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.engines.splice(0).map((engine) => engine.close()));
  }
}

/**
 * The usual set-up of an engine test file: one private redis-server for the
 * file, and engines that are closed after each test. Read `redis` and
 * `harness` inside tests (they are set in beforeAll).
 */
export function useEngines(): { redis: TestRedis; harness: EngineHarness } {
  const env = {} as { redis: TestRedis; harness: EngineHarness };
  beforeAll(async () => {
    env.redis = await startRedis();
    env.harness = new EngineHarness(env.redis.url);
  });
  afterEach(() => env.harness?.closeAll());
  afterAll(() => env.redis?.stop());
  return env;
}
