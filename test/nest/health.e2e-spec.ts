import 'reflect-metadata';
import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { Flow, GoTickHealthIndicator, GoTickModule, TickService, type FlowContext, type GoTickModuleOptions } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

@Injectable()
class PingFlows {
  @Flow('health/ping')
  async ping(ctx: FlowContext) {
    return ctx.memo('pong', () => 'pong');
  }
}

/** The controller a user writes: Terminus' HealthCheckService over our indicator. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly gotick: GoTickHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.gotick.isHealthy('gotick')]);
  }
}

interface HealthBody {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
  details: Record<string, Record<string, unknown>>;
}

async function boot(options: GoTickModuleOptions): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [TerminusModule, GoTickModule.forRoot(options)], controllers: [HealthController], providers: [PingFlows] })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `${await app.getUrl()}/health` };
}

async function get(url: string): Promise<{ status: number; body: HealthBody; ms: number }> {
  const started = Date.now();
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as HealthBody, ms: Date.now() - started };
}

describe('GoTickHealthIndicator through @nestjs/terminus, over HTTP', () => {
  let redis: TestRedis;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await redis.thaw();
    await app?.close();
    app = undefined;
    await redis.stop();
  });

  it('is up with the Redis latency and the worker state, and the engine really works meanwhile', async () => {
    const booted = await boot({ connection: redis.url, prefix: `health-up${process.pid}`, worker: { concurrency: 3 } });
    app = booted.app;
    const { status, body } = await get(booted.url);
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info!.gotick).toEqual({ status: 'up', redis: 'up', latencyMs: expect.any(Number), worker: 'running', concurrency: 3 });
    expect(body.info!.gotick.latencyMs).toBeGreaterThan(0);
    expect(body.info!.gotick.latencyMs).toBeLessThan(1000);
    const ticks = app.get(TickService);
    const run = await ticks.trigger('health/ping');
    expect((await ticks.waitForRun(run, { timeout: '10s' })).output).toBe('pong');
  });

  it('is up on a trigger-only node, with worker "off"', async () => {
    const booted = await boot({ connection: redis.url, prefix: `health-off${process.pid}`, worker: false });
    app = booted.app;
    const { status, body } = await get(booted.url);
    expect(status).toBe(200);
    expect(body.info!.gotick).toEqual({ status: 'up', redis: 'up', latencyMs: expect.any(Number), worker: 'off' });
  });

  it('answers 503 with the reason once Redis is killed, and up again once it is back', async () => {
    const booted = await boot({ connection: redis.url, prefix: `health-kill${process.pid}` });
    app = booted.app;
    expect((await get(booted.url)).status).toBe(200);

    await redis.kill();
    const down = await get(booted.url);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('error');
    expect(down.body.error!.gotick).toMatchObject({ status: 'down', redis: 'down', worker: 'running' });
    expect(down.body.error!.gotick.message).toMatch(new RegExp(`^Redis at redis://127\\.0\\.0\\.1:${redis.port} did not answer: `));
    expect(down.body.error!.gotick).not.toHaveProperty('latencyMs');

    await redis.boot();
    await waitUntil(async () => (await get(booted.url)).status === 200, 'the check to be up again after Redis restarted', 20_000);
  });

  it('answers 503 within its timeout when Redis is frozen (no reply at all), not after commandTimeout', async () => {
    const booted = await boot({ connection: redis.url, prefix: `health-freeze${process.pid}`, commandTimeout: '10s', shutdownTimeout: '1s' });
    app = booted.app;
    expect((await get(booted.url)).status).toBe(200);

    await redis.freeze();
    const down = await get(booted.url);
    expect(down.status).toBe(503);
    expect(down.body.error!.gotick.message).toMatch(/no answer to PING within 1000 ms/);
    // The default timeout is 1 s; generous room for a loaded machine, far below the 10 s commandTimeout.
    expect(down.ms).toBeLessThan(5000);
  });

  it('reports down, naming why, before start and after close', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `health-life${process.pid}` })],
    }).compile();
    const indicator = moduleRef.get(GoTickHealthIndicator);
    // Not initialised yet: the engine has not connected.
    expect(await indicator.isHealthy('queue')).toEqual({
      queue: { status: 'down', redis: 'down', worker: 'starting', concurrency: 10, message: 'GoTick has not started yet (start() connects to Redis)' },
    });
    const local = moduleRef.createNestApplication({ logger: false });
    await local.init();
    expect((await indicator.isHealthy('queue')).queue.status).toBe('up');
    await local.close();
    expect(await indicator.isHealthy('queue')).toEqual({
      queue: { status: 'down', redis: 'down', worker: 'stopped', concurrency: 10, message: 'GoTick is closed' },
    });
  });
});
