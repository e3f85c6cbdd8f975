import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import {
  Flow,
  GoTickModule,
  OnFlowError,
  OnFlowFail,
  OnFlowSuccess,
  TickService,
  type FlowContext,
  type FlowFailure,
} from '../../lib';
import { bootApp } from '../support/nest-app';
import { freePort, startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

/** An app service the flows depend on, to prove flows run with Nest DI. */
@Injectable()
class OrderService {
  readonly closed: string[] = [];
  close(orderId: string): string {
    this.closed.push(orderId);
    return `closed ${orderId}`;
  }
}

const events: string[] = [];

@Injectable()
class OrderFlows {
  constructor(private readonly orders: OrderService) {}

  @Flow('orders/close')
  async close(ctx: FlowContext<{ orderId: string }>) {
    const note = await ctx.memo('close', () => this.orders.close(ctx.input.orderId));
    await ctx.task('flaky', (task) => {
      if (task.attempt === 1) throw new Error('first try fails');
    }, { backoff: 10 });
    return { note };
  }

  @Flow('orders/reject')
  async reject(ctx: FlowContext) {
    await ctx.task('refuse', () => {
      throw new Error('never works');
    }, { retries: 1, backoff: 0 });
  }

  @OnFlowSuccess('orders/close')
  closed(ctx: FlowContext, output: unknown) {
    events.push(`success:${ctx.runId}:${JSON.stringify(output)}`);
  }

  @OnFlowError('orders/close')
  @OnFlowError('orders/reject')
  attemptFailed(ctx: FlowContext, failure: FlowFailure) {
    events.push(`error:${ctx.flowId}:${failure.stepKey}:${failure.attempt}`);
  }

  @OnFlowFail('orders/reject')
  failed(ctx: FlowContext, failure: FlowFailure) {
    events.push(`fail:${ctx.flowId}:${failure.stepKey}`);
  }
}

describe('GoTickModule in a Nest app', () => {
  let redis: TestRedis;
  let prefix = 0;
  const nextPrefix = () => `nest${process.pid}x${++prefix}`;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());
  beforeEach(() => {
    events.length = 0;
  });

  it('runs @Flow methods with their injected services and calls each hook as promised', async () => {
    const app = await bootApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: nextPrefix() })],
      providers: [OrderService, OrderFlows],
    });
    try {
      const ticks = app.get(TickService);
      expect(await ticks.listFlows()).toEqual(['orders/close', 'orders/reject']);
      const { runId } = await ticks.trigger('orders/close', { orderId: 'o-7' });
      const run = await ticks.waitForRun(runId, { timeout: '10s' });
      expect(run.output).toEqual({ note: 'closed o-7' });
      expect(app.get(OrderService).closed).toEqual(['o-7']);

      const rejected = await ticks.waitForRun((await ticks.trigger('orders/reject')).runId);
      expect(rejected.status).toBe('failed');
      expect(events).toEqual([
        'error:orders/close:flaky:1',
        `success:${runId}:{"note":"closed o-7"}`,
        'error:orders/reject:refuse:1',
        'error:orders/reject:refuse:2',
        'fail:orders/reject:refuse',
      ]);
    } finally {
      await app.close();
    }
  });

  it('takes its options from forRootAsync with injected config', async () => {
    const prefixName = nextPrefix();
    @Injectable()
    class Config {
      readonly redisUrl = redis.url;
    }
    @Module({ providers: [Config], exports: [Config] })
    class ConfigModule {}

    const app = await bootApp({
      imports: [
        GoTickModule.forRootAsync({
          imports: [ConfigModule],
          inject: [Config],
          useFactory: (config: Config) => ({ connection: config.redisUrl, prefix: prefixName }),
        }),
      ],
      providers: [OrderService, OrderFlows],
    });
    try {
      const ticks = app.get(TickService);
      const run = await ticks.waitForRun((await ticks.trigger('orders/close', { orderId: 'async' })).runId);
      expect(run.status).toBe('completed');
      expect(await redis.client.exists(`${prefixName}:run:{${run.runId}}`)).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('continues a sleeping run in a new app after the old one was closed mid-sleep', async () => {
    const prefixName = nextPrefix();
    const sideEffects: string[] = [];
    @Injectable()
    class SleepyFlows {
      @Flow('sleepy')
      async run(ctx: FlowContext) {
        await ctx.task('before', () => void sideEffects.push('before'));
        await ctx.sleep('nap', '1500ms');
        await ctx.task('after', () => void sideEffects.push('after'));
        return 'woke';
      }
    }
    const boot = () => bootApp({ imports: [GoTickModule.forRoot({ connection: redis.url, prefix: prefixName })], providers: [SleepyFlows] });

    const first = await boot();
    const { runId } = await first.get(TickService).trigger('sleepy');
    await waitUntil(async () => (await first.get(TickService).getRun(runId))?.status === 'sleeping', 'the run to sleep');
    await first.close();
    expect(sideEffects).toEqual(['before']);

    const second = await boot();
    try {
      const run = await second.get(TickService).waitForRun(runId, { timeout: '15s' });
      expect(run.output).toBe('woke');
      expect(sideEffects).toEqual(['before', 'after']);
      expect(run.executions).toBe(2);
    } finally {
      await second.close();
    }
  });

  it('stops bootstrap on a duplicate flow id, naming both methods', async () => {
    @Injectable()
    class A {
      @Flow('same/id') async one() {}
    }
    @Injectable()
    class B {
      @Flow('same/id') async two() {}
    }
    await expect(
      bootApp({ imports: [GoTickModule.forRoot({ connection: redis.url, prefix: nextPrefix() })], providers: [A, B] }),
    ).rejects.toThrow(/Flow id "same\/id" is declared twice: on A\.one and on B\.two/);
  });

  it('stops bootstrap on a hook for a flow that does not exist', async () => {
    @Injectable()
    class Hooks {
      @OnFlowFail('ghost') onFail() {}
    }
    await expect(
      bootApp({ imports: [GoTickModule.forRoot({ connection: redis.url, prefix: nextPrefix() })], providers: [Hooks] }),
    ).rejects.toThrow(/Hooks\.onFail is a hook for flow "ghost", but no @Flow\("ghost"\) exists/);
  });

  it('says clearly when Redis cannot be reached at startup', async () => {
    const port = await freePort();
    await expect(
      bootApp({
        imports: [GoTickModule.forRoot({ connection: `redis://127.0.0.1:${port}`, connectTimeout: '2s' })],
        providers: [OrderService, OrderFlows],
      }),
    ).rejects.toThrow(/Redis is unavailable: cannot connect to redis:\/\/127\.0\.0\.1:\d+/);
  });

  it('refuses to mount REST routes that nobody protects', async () => {
    await expect(
      bootApp({ imports: [GoTickModule.forRoot({ connection: redis.url, http: { path: 'gotick' } })], providers: [] }),
    ).rejects.toThrow(/REST routes have no protection/);
  });

  it('lets a trigger-only node (worker: false) start runs that a worker node executes', async () => {
    const prefixName = nextPrefix();
    const client = await bootApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: prefixName, worker: false })],
      providers: [OrderService, OrderFlows],
    });
    const { runId } = await client.get(TickService).trigger('orders/close', { orderId: 'remote' });
    const worker = await bootApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: prefixName })],
      providers: [OrderService, OrderFlows],
    });
    try {
      const run = await client.get(TickService).waitForRun(runId);
      expect(run.status).toBe('completed');
      expect(client.get(OrderService).closed).toEqual([]);
      expect(worker.get(OrderService).closed).toEqual(['remote']);
    } finally {
      await Promise.all([client.close(), worker.close()]);
    }
  });
});
