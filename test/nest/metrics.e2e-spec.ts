import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Counter, Registry, register as globalRegistry } from 'prom-client';
import {
  Flow,
  GoTickConfigError,
  GoTickEngine,
  GoTickModule,
  NonRetriableError,
  TickService,
  type FlowContext,
  type GoTickInterceptor,
  type GoTickModuleOptions,
  type StepInterceptInfo,
} from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

const TOKEN = 'metrics-token';

@Injectable()
class ShopFlows {
  private charges = new Map<string, number>();

  /** memo "reserve" -> task "charge" (fails its first attempt) -> sleep "nap". */
  @Flow('shop/checkout')
  async checkout(ctx: FlowContext) {
    await ctx.memo('reserve', () => 'r-1');
    await ctx.task(
      'charge',
      () => {
        const tries = (this.charges.get(ctx.runId) ?? 0) + 1;
        this.charges.set(ctx.runId, tries);
        if (tries === 1) throw new Error('gateway timeout');
      },
      { backoff: 0 },
    );
    await ctx.sleep('nap', '20ms');
    return 'ok';
  }

  @Flow('shop/refuse')
  async refuse(ctx: FlowContext) {
    await ctx.task('charge', () => {
      throw new NonRetriableError('card declined');
    });
  }
}

/** Every interceptor call below, in the order they wrap a step. */
const order: string[] = [];

/** Where the audit interceptor writes: an app provider it gets injected. */
@Injectable()
class AuditLog {
  readonly lines: string[] = [];
}

/** An interceptor that is an app provider with a dependency: the module takes the app's instance. */
@Injectable()
class AuditInterceptor implements GoTickInterceptor {
  constructor(readonly audit: AuditLog) {}

  interceptStep(info: StepInterceptInfo, next: () => Promise<unknown>) {
    this.audit.lines.push(`audit ${info.key}#${info.attempt}`);
    order.push(`audit ${info.key}#${info.attempt}`);
    return next();
  }
}

/** A class no module provides: the module's injector builds it. */
class StepCounter implements GoTickInterceptor {
  static seen = 0;
  interceptStep(info: StepInterceptInfo, next: () => Promise<unknown>) {
    StepCounter.seen++;
    order.push(`counter ${info.key}#${info.attempt}`);
    return next();
  }
}

describe('Prometheus metrics (metrics option) and Nest interceptors', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  const registry = new Registry();
  // The app's own metric in the same registry: GET /gotick/metrics shows the whole registry, as the app's /metrics would.
  const appRequests = new Counter({ name: 'app_requests_total', help: 'The app\'s own requests.', registers: [registry] });

  beforeAll(async () => {
    redis = await startRedis();
    const options: GoTickModuleOptions = {
      connection: redis.url,
      prefix: `metrics${process.pid}`,
      http: { token: TOKEN },
      metrics: { registry },
      interceptors: [AuditInterceptor, StepCounter, { interceptStep: (info, next) => (order.push(`instance ${info.key}#${info.attempt}`), next()) }],
    };
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickModule.forRoot(options)],
      providers: [ShopFlows, AuditLog, AuditInterceptor],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/gotick`;
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  /** One sample's value from the registry (0 when the series does not exist). */
  async function sample(name: string, labels: Record<string, string>, suffix = ''): Promise<number> {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    const found = metric?.values.find(
      (v) => (v as { metricName?: string }).metricName === (suffix ? name + suffix : (v as { metricName?: string }).metricName) && Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
    );
    return found?.value ?? 0;
  }

  it('counts runs, their ends and durations, and step attempts by outcome, with bounded labels only', async () => {
    const ticks = app.get(TickService);
    const checkouts = await Promise.all([1, 2, 3].map(() => ticks.trigger('shop/checkout')));
    const refused = await ticks.trigger('shop/refuse');
    for (const { runId } of [...checkouts, refused]) expect((await ticks.waitForRun(runId, { timeout: '10s' })).status).not.toBe('running');
    // A run is written finished before its execution returns to the interceptors that count it.
    await waitUntil(async () => (await sample('gotick_runs_finished_total', { flow: 'shop/checkout', status: 'completed' })) === 3, 'three checkouts counted');
    await waitUntil(async () => (await sample('gotick_runs_finished_total', { flow: 'shop/refuse', status: 'failed' })) === 1, 'the refused run counted');
    // Not yet due: a job the queue gauge must find delayed.
    const later = await ticks.trigger('shop/checkout', undefined, { delay: '1h' });

    expect(await sample('gotick_runs_started_total', { flow: 'shop/checkout' })).toBe(3);
    expect(await sample('gotick_runs_started_total', { flow: 'shop/refuse' })).toBe(1);
    expect(await sample('gotick_runs_finished_total', { flow: 'shop/checkout', status: 'completed' })).toBe(3);
    expect(await sample('gotick_runs_finished_total', { flow: 'shop/refuse', status: 'failed' })).toBe(1);
    expect(await sample('gotick_run_duration_seconds', { flow: 'shop/checkout', status: 'completed' }, '_count')).toBe(3);
    // Each checkout slept 20 ms: its duration covers the sleep and both executions.
    expect(await sample('gotick_run_duration_seconds', { flow: 'shop/checkout', status: 'completed' }, '_sum')).toBeGreaterThanOrEqual(0.06);

    expect(await sample('gotick_step_attempts_total', { flow: 'shop/checkout', kind: 'memo', outcome: 'completed' })).toBe(3);
    expect(await sample('gotick_step_attempts_total', { flow: 'shop/checkout', kind: 'task', outcome: 'failed' })).toBe(3);
    expect(await sample('gotick_step_attempts_total', { flow: 'shop/checkout', kind: 'task', outcome: 'completed' })).toBe(3);
    expect(await sample('gotick_step_attempts_total', { flow: 'shop/refuse', kind: 'task', outcome: 'failed' })).toBe(1);
    // Replays (memo "reserve" on the resume after the nap) are not attempts.
    expect(await sample('gotick_step_duration_seconds', { flow: 'shop/checkout', kind: 'memo' }, '_count')).toBe(3);
    expect(await sample('gotick_step_duration_seconds', { flow: 'shop/checkout', kind: 'task' }, '_count')).toBe(6);

    // Read from Redis when scraped.
    expect(await sample('gotick_queue_jobs', { state: 'delayed' })).toBe(1);
    expect(await sample('gotick_queue_jobs', { state: 'active' })).toBe(0);
    expect(await sample('gotick_queue_jobs', { state: 'failed' })).toBe(0);

    // Cancelled while queued: no execution ends it, and it is counted all the same.
    await ticks.cancel(later.runId);
    expect(await sample('gotick_runs_finished_total', { flow: 'shop/checkout', status: 'cancelled' })).toBe(1);
    expect(await sample('gotick_runs_started_total', { flow: 'shop/checkout' })).toBe(3);

    // Labels stay bounded: no run id in any series.
    const text = await registry.metrics();
    for (const { runId } of [...checkouts, refused, later]) expect(text).not.toContain(runId);
    const labelNames = new Set((await registry.getMetricsAsJSON()).flatMap((m) => m.values.flatMap((v) => Object.keys(v.labels))));
    expect([...labelNames].sort()).toEqual(['flow', 'kind', 'le', 'outcome', 'state', 'status']);
  });

  it('serves the registry on GET /gotick/metrics in the text format, behind the routes\' bearer token', async () => {
    appRequests.inc(5);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);

    const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    // prom-client's content type (Express reorders its parameters).
    expect(response.headers.get('content-type')).toMatch(/^text\/plain;/);
    expect(response.headers.get('content-type')).toContain('version=0.0.4');
    const body = await response.text();
    expect(body).toContain('# TYPE gotick_runs_finished_total counter');
    expect(body).toContain('gotick_runs_finished_total{flow="shop/checkout",status="completed"} 3');
    expect(body).toMatch(/^gotick_queue_jobs\{state="delayed"\} \d+$/m);
    expect(body).toContain('app_requests_total 5');
  });

  it('resolves interceptor classes through the injector (the app\'s provider with its dependency, or a new instance) and keeps their order', async () => {
    const ticks = app.get(TickService);
    const audit = app.get(AuditLog);
    audit.lines.length = 0;
    order.length = 0;
    const seenBefore = StepCounter.seen;
    const { runId } = await ticks.trigger('shop/refuse');
    await ticks.waitForRun(runId, { timeout: '10s' });
    expect(audit.lines).toEqual(['audit charge#1']);
    expect(StepCounter.seen - seenBefore).toBe(1);
    expect(order).toEqual(['audit charge#1', 'counter charge#1', 'instance charge#1']);
    expect(app.get(AuditInterceptor).audit).toBe(audit);
  });

  it('counts exactly once per run and per attempt over 200 concurrent runs (no double count across executions)', async () => {
    const own = new Registry();
    const engine = new GoTickEngine({ connection: redis.url, prefix: `many${process.pid}`, metrics: { registry: own }, worker: { concurrency: 20 }, defaults: { backoff: 0 } });
    const tries = new Map<string, number>();
    engine.register({
      id: 'many/steps',
      handler: async (ctx: FlowContext) => {
        await ctx.memo('a', () => 1);
        // Every fifth run fails its first attempt of "b" once, then parks 5 ms: a second execution.
        await ctx.task('b', () => {
          const n = (tries.get(ctx.runId) ?? 0) + 1;
          tries.set(ctx.runId, n);
          if (n === 1 && Number(ctx.runId.slice(2)) % 5 === 0) throw new Error('once');
        });
        await ctx.sleep('nap', '5ms');
        await ctx.task('c', () => undefined);
      },
    });
    await engine.start();
    try {
      const runs = await engine.triggerMany('many/steps', Array.from({ length: 200 }, (_, i) => ({ runId: `m-${i}` })));
      for (const { runId } of runs) expect((await engine.waitForRun(runId, { timeout: '30s' })).status).toBe('completed');
      const value = async (name: string, labels: Record<string, string>, suffix = '') => {
        const metric = (await own.getMetricsAsJSON()).find((m) => m.name === name)!;
        const found = metric.values.find((v) => (suffix ? (v as { metricName?: string }).metricName === name + suffix : true) && Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
        return found?.value ?? 0;
      };
      await waitUntil(async () => (await value('gotick_runs_finished_total', { flow: 'many/steps', status: 'completed' })) === 200, '200 runs counted finished');
      expect(await value('gotick_runs_started_total', { flow: 'many/steps' })).toBe(200);
      expect(await value('gotick_run_duration_seconds', { flow: 'many/steps', status: 'completed' }, '_count')).toBe(200);
      expect(await value('gotick_step_attempts_total', { flow: 'many/steps', kind: 'memo', outcome: 'completed' })).toBe(200);
      expect(await value('gotick_step_attempts_total', { flow: 'many/steps', kind: 'task', outcome: 'failed' })).toBe(40);
      expect(await value('gotick_step_attempts_total', { flow: 'many/steps', kind: 'task', outcome: 'completed' })).toBe(400);
      expect(await value('gotick_runs_finished_total', { flow: 'many/steps', status: 'failed' })).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('answers 404 on /metrics when metrics are off, naming the option', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `nometrics${process.pid}`, http: { token: TOKEN }, worker: false })],
    }).compile();
    const plain = moduleRef.createNestApplication({ logger: false });
    await plain.listen(0, '127.0.0.1');
    try {
      const response = await fetch(`${await plain.getUrl()}/gotick/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { message: string }).message).toContain('set metrics: true');
    } finally {
      await plain.close();
    }
  });

  it('registers in prom-client\'s global registry with metrics: true, shared by engines of one process, and refuses a name taken by the app', async () => {
    const first = new GoTickEngine({ metrics: true });
    const second = new GoTickEngine({ metrics: true });
    expect(first.metricsRegistry).toBe(globalRegistry);
    expect(second.metricsRegistry).toBe(globalRegistry);
    expect(globalRegistry.getSingleMetric('gotick_runs_started_total')).toBeDefined();

    const taken = new Registry();
    new Counter({ name: 'gotick_runs_started_total', help: 'the app\'s own', registers: [taken] });
    expect(() => new GoTickEngine({ metrics: { registry: taken } })).toThrow(GoTickConfigError);
    expect(() => new GoTickEngine({ metrics: { registry: taken } })).toThrow('set metrics.prefix to another name prefix');
    const prefixed = new GoTickEngine({ metrics: { registry: taken, prefix: 'orders_gotick_' } });
    expect(taken.getSingleMetric('orders_gotick_runs_started_total')).toBeDefined();
    expect(prefixed.metricsRegistry).toBe(taken);
    expect(() => new GoTickEngine({ metrics: { prefix: 'bad prefix' } })).toThrow('Invalid metrics.prefix "bad prefix"');
  });
});
