import 'reflect-metadata';
import { Injectable, type INestApplication, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Flow, GoTickModule, TickService, type FlowContext, type GoTickModuleOptions } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';

/** A user's LoggerService: keeps every line with its level and context. */
class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string; context?: string }> = [];
  private keep = (level: string) => (message: unknown, ...rest: unknown[]) =>
    void this.lines.push({ level, message: String(message), context: rest.length ? String(rest[rest.length - 1]) : undefined });
  log = this.keep('log');
  error = this.keep('error');
  warn = this.keep('warn');
  debug = this.keep('debug');
  verbose = this.keep('verbose');
  fatal = this.keep('fatal');

  /** GoTick's lines about one run, as "level message". */
  of(runId: string): string[] {
    return this.lines.filter((l) => l.context === 'GoTick' && l.message.includes(`"${runId}"`)).map((l) => `${l.level} ${l.message}`);
  }
}

const count = (lines: string[], pattern: RegExp) => lines.filter((line) => pattern.test(line)).length;

/** An ORM-like entity: its owner points back at it, so JSON cannot encode it. */
function savedEntity() {
  const order: { id: number; owner?: { orders: unknown[] } } = { id: 7 };
  order.owner = { orders: [order] };
  return order;
}

const attemptsOfFetch = new Map<string, number>();

@Injectable()
class SpeakFlows {
  @Flow('speak/flaky')
  async flaky(ctx: FlowContext) {
    // Fails once, parks for its backoff and is replayed; then sleeps (parked and replayed again).
    const value = await ctx.memo(
      'fetch',
      () => {
        const attempt = (attemptsOfFetch.get(ctx.runId) ?? 0) + 1;
        attemptsOfFetch.set(ctx.runId, attempt);
        if (attempt === 1) throw new Error('upstream hiccup');
        return 'fetched';
      },
      { backoff: 50 },
    );
    await ctx.sleep('nap', '50ms');
    return value;
  }

  @Flow('speak/broken')
  async broken(ctx: FlowContext) {
    await ctx.task('charge', function chargeTheCard() {
      throw new TypeError('card declined');
    }, { retries: 2, backoff: 0 });
  }

  @Flow('speak/orm')
  async orm(ctx: FlowContext) {
    let saves = 0;
    await ctx.task('save', () => {
      saves++;
      return savedEntity();
    });
    return { saves };
  }
}

const TOKEN = 'speak-token';

async function boot(redisUrl: string, prefix: string, logger: LoggerService, extra: Partial<GoTickModuleOptions> = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [GoTickModule.forRoot({ connection: redisUrl, prefix, http: { token: TOKEN }, ...extra })],
    providers: [SpeakFlows],
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  return { app, ticks: app.get(TickService), base: `${await app.getUrl()}/gotick` };
}

describe('failures speak: logs from a real Nest app, stacks in the run view, never in HTTP errors', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let ticks: TickService;
  let base: string;
  const logger = new CapturingLogger();
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    redis = await startRedis();
    ({ app, ticks, base } = await boot(redis.url, `speak${process.pid}`, logger, { logLevel: 'debug' }));
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('logs a failing attempt once at warn (not on replay), and the run\'s routine lines at debug', async () => {
    const { runId } = await ticks.trigger('speak/flaky');
    const run = await ticks.waitForRun(runId);
    expect(run).toMatchObject({ status: 'completed', output: 'fetched', executions: 3 });
    const lines = logger.of(runId);
    expect(count(lines, /^warn .*"speak\/flaky": step "fetch" attempt 1 failed: Error: upstream hiccup$/)).toBe(1);
    expect(count(lines, /^warn /)).toBe(1);
    expect(count(lines, /^debug .* started \(execution \d\)\.$/)).toBe(3);
    expect(count(lines, /^debug .* parked until /)).toBe(2);
    expect(count(lines, /^debug .* completed\.$/)).toBe(1);
    expect(lines).toHaveLength(7);
  });

  it('logs each failed attempt and the failed run once at warn, with flow, run, step, attempt and message', async () => {
    const { runId } = await ticks.trigger('speak/broken');
    expect((await ticks.waitForRun(runId)).status).toBe('failed');
    const lines = logger.of(runId);
    for (const attempt of [1, 2, 3]) {
      expect(lines).toContain(`warn Run "${runId}" of flow "speak/broken": step "charge" attempt ${attempt} failed: TypeError: card declined`);
    }
    expect(lines).toContain(
      `warn Run "${runId}" of flow "speak/broken" failed at step "charge": StepFailedError: Step "charge" failed after 3 attempt(s): TypeError: card declined`,
    );
    expect(count(lines, /^warn /)).toBe(4);
    expect(count(lines, /^(log|error) /)).toBe(0);
  });

  it('keeps the failing attempt\'s trimmed stack in the run view (run error and the step\'s latest error only)', async () => {
    const { runId } = await ticks.trigger('speak/broken');
    const run = (await ticks.waitForRun(runId))!;
    const stack = run.error!.stack!;
    expect(stack).toMatch(/^TypeError: card declined\n/);
    expect(stack).toContain('chargeTheCard');
    expect(stack).not.toMatch(/node:internal|\(node:/);
    expect(stack.split('\n').length).toBeLessThanOrEqual(30);
    const errors = run.steps.find((step) => step.key === 'charge')!.errors!;
    expect(errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(errors.map((e) => e.stack === undefined)).toEqual([true, true, false]);
    expect(errors[2].stack).toContain('chargeTheCard');
    // The view over HTTP (a 200) shows it too; a list of runs stays light.
    const viewed: any = await (await fetch(`${base}/runs/${runId}`, { headers: auth })).json();
    expect(viewed.error.stack).toContain('chargeTheCard');
    const listed: any = await (await fetch(`${base}/runs?flowId=speak%2Fbroken`, { headers: auth })).json();
    expect(listed.runs.length).toBeGreaterThan(0);
    expect(JSON.stringify(listed)).not.toContain('"stack"');
    // A retried run keeps its earlier error without the stack; the new failure has its own.
    await ticks.retry(runId);
    await ticks.waitForRun(runId).then((again) => expect(again.retries).toBe(1));
    const again = (await ticks.getRun(runId))!;
    expect(again).toMatchObject({ status: 'failed', retries: 1 });
    expect(again.previousErrors).toEqual([expect.objectContaining({ name: 'StepFailedError' })]);
    expect(again.previousErrors![0]).not.toHaveProperty('stack');
    expect(again.error!.stack).toContain('chargeTheCard');
  });

  it('never puts a stack in an HTTP error body (4xx)', async () => {
    const { runId } = await ticks.trigger('speak/broken');
    await ticks.waitForRun(runId);
    const done = await ticks.trigger('speak/orm');
    await ticks.waitForRun(done.runId);
    const calls: Array<[number, Promise<Response>]> = [
      [404, fetch(`${base}/flows/nope/runs`, { method: 'POST', headers: auth, body: '{}' })],
      [404, fetch(`${base}/runs/no-such-run`, { headers: auth })],
      [409, fetch(`${base}/runs/${done.runId}/retry`, { method: 'POST', headers: auth })],
      [409, fetch(`${base}/runs/${runId}/signals/go`, { method: 'POST', headers: auth, body: '{}' })],
      [400, fetch(`${base}/flows/speak%2Fbroken/runs`, { method: 'POST', headers: auth, body: '{"input": ' })],
      [400, fetch(`${base}/flows/speak%2Fbroken/runs`, { method: 'POST', headers: auth, body: '{"runId": "bad id!"}' })],
      [401, fetch(`${base}/runs/${runId}`)],
    ];
    for (const [status, call] of calls) {
      const response = await call;
      const text = await response.text();
      expect({ status: response.status, text }).toEqual({ status, text: expect.not.stringContaining('stack') });
      expect(Object.keys(JSON.parse(text)).sort()).toEqual(expect.arrayContaining(['message', 'statusCode']));
    }
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('never puts a stack in an HTTP error body (5xx: Redis gone)', async () => {
    const own = await startRedis();
    const logs = new CapturingLogger();
    const gone = await boot(own.url, `speakr${process.pid}`, logs, { worker: false, connectTimeout: '2s' });
    try {
      await own.stop();
      const response = await fetch(`${gone.base}/flows/speak%2Fbroken/runs`, { method: 'POST', headers: auth, body: '{}' });
      expect(response.status).toBe(503);
      const text = await response.text();
      expect(text).not.toContain('stack');
      expect(JSON.parse(text)).toMatchObject({ statusCode: 503, error: 'RedisUnavailableError' });
    } finally {
      await gone.app.close();
    }
  }, 30_000);

  it('ignores a task\'s return value: a task returning a circular entity completes, and its step has no result', async () => {
    const { runId } = await ticks.trigger('speak/orm');
    const run = (await ticks.waitForRun(runId))!;
    expect(run).toMatchObject({ status: 'completed', output: { saves: 1 } });
    const save = run.steps.find((step) => step.key === 'save')!;
    expect(save).toMatchObject({ kind: 'task', status: 'completed', attempts: 1 });
    expect('result' in save).toBe(false);
  });

  it('with the default logLevel (log), keeps the failure lines and drops the routine ones; silent drops all', async () => {
    // Nest has one logger per process (the last app's): one app at a time.
    const quiet = new CapturingLogger();
    const a = await boot(redis.url, `speakq${process.pid}`, quiet);
    try {
      const { runId } = await a.ticks.trigger('speak/flaky');
      expect((await a.ticks.waitForRun(runId)).status).toBe('completed');
      expect(quiet.of(runId)).toEqual([`warn Run "${runId}" of flow "speak/flaky": step "fetch" attempt 1 failed: Error: upstream hiccup`]);
    } finally {
      await a.app.close();
    }
    const silent = new CapturingLogger();
    const b = await boot(redis.url, `speaks${process.pid}`, silent, { logLevel: 'silent' });
    try {
      const { runId } = await b.ticks.trigger('speak/broken');
      expect((await b.ticks.waitForRun(runId)).status).toBe('failed');
      expect(silent.lines.filter((l) => l.context === 'GoTick')).toEqual([]);
    } finally {
      await b.app.close();
    }
  });
});
