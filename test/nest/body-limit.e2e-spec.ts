import 'reflect-metadata';
import { Body, Controller, Injectable, Post, type LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Flow, GoTickModule, TickService, type FlowContext, type GoTickModuleOptions } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';

@Injectable()
class BigFlows {
  @Flow('big/store')
  async store(ctx: FlowContext<{ blob: string }>) {
    return ctx.input.blob.length;
  }
}

/** A route of the user's own: GoTick must leave its errors alone. */
@Controller('echo')
class EchoController {
  @Post()
  echo(@Body() body: unknown) {
    return body;
  }
}

class ErrorLog implements LoggerService {
  readonly errors: string[] = [];
  log() {}
  warn() {}
  error(message: unknown, ...rest: unknown[]) {
    this.errors.push(`${String(message)} ${rest.map(String).join(' ')}`);
  }
}

const TOKEN = 'big-token';
const headers = (type = 'application/json') => ({ authorization: `Bearer ${TOKEN}`, 'content-type': type });
const KB = 1024;
/** The JSON body of a response, loosely typed for assertions. */
const json = async (response: Response): Promise<any> => response.json();
const bodyOf = (inputBytes: number) => JSON.stringify({ input: { blob: 'x'.repeat(inputBytes) } });

async function boot(redisUrl: string, prefix: string, logger: LoggerService, jsonLimit?: string, extra: Partial<GoTickModuleOptions> = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [GoTickModule.forRoot({ connection: redisUrl, prefix, http: { token: TOKEN, path: 'ops/gotick' }, ...extra })],
    providers: [BigFlows],
    controllers: [EchoController],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger });
  // The line the README gives next to limits.maxPayloadBytes.
  if (jsonLimit) app.useBodyParser('json', { limit: jsonLimit });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return { app, ticks: app.get(TickService), base: `${url}/ops/gotick`, url };
}

describe('REST body limits over a real socket: a 500 KB input', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('with the app parser left at 100 KB: 413 in the documented shape naming both limits and the fix, nothing started, nothing logged', async () => {
    const log = new ErrorLog();
    const { app, ticks, base, url } = await boot(redis.url, `big${process.pid}a`, log);
    try {
      const response = await fetch(`${base}/flows/big%2Fstore/runs`, { method: 'POST', headers: headers(), body: bodyOf(500 * KB) });
      expect(response.status).toBe(413);
      const body = await json(response);
      expect(Object.keys(body).sort()).toEqual(['error', 'message', 'statusCode']);
      expect(body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect(body.message).toContain('102400 bytes');
      expect(body.message).toContain('limits.maxPayloadBytes (1048576 bytes)');
      expect(body.message).toContain("app.useBodyParser('json', { limit: '1088kb' })");
      // A signal over the parser limit gets the same answer.
      const signal = await fetch(`${base}/runs/any/signals/go`, { method: 'POST', headers: headers(), body: JSON.stringify({ payload: 'x'.repeat(200 * KB) }) });
      expect(signal.status).toBe(413);
      expect((await json(signal)).message).toContain('limits.maxPayloadBytes');
      expect((await ticks.listRuns()).runs).toEqual([]);
      expect(log.errors).toEqual([]);
      // The user's own routes keep Nest's answer: GoTick only speaks for its own.
      const echo = await fetch(`${url}/echo`, { method: 'POST', headers: headers(), body: bodyOf(500 * KB) });
      expect(echo.status).toBe(413);
      expect(await echo.text()).not.toContain('maxPayloadBytes');
    } finally {
      await app.close();
    }
  });

  it("with app.useBodyParser('json', { limit }) as the README says: 201, and the run gets the whole input", async () => {
    const log = new ErrorLog();
    const { app, ticks, base } = await boot(redis.url, `big${process.pid}b`, log, '1088kb');
    try {
      const response = await fetch(`${base}/flows/big%2Fstore/runs`, { method: 'POST', headers: headers(), body: bodyOf(500 * KB) });
      expect(response.status).toBe(201);
      const { runId } = await json(response);
      expect(await ticks.waitForRun(runId)).toMatchObject({ status: 'completed', output: 500 * KB });
      // Over maxPayloadBytes but under the parser's limit: the engine's own 413, same shape.
      const over = await fetch(`${base}/flows/big%2Fstore/runs`, { method: 'POST', headers: headers(), body: bodyOf(1040 * KB) });
      expect(over.status).toBe(413);
      const body = await json(over);
      expect(Object.keys(body).sort()).toEqual(['error', 'message', 'statusCode']);
      expect(body).toMatchObject({ statusCode: 413, error: 'PayloadTooLargeError' });
      expect(log.errors).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('an application/*+json body (read by GoTick itself) is accepted up to maxPayloadBytes, and past it gets a 413 of the same shape', async () => {
    const log = new ErrorLog();
    const { app, ticks, base } = await boot(redis.url, `big${process.pid}c`, log);
    try {
      const response = await fetch(`${base}/flows/big%2Fstore/runs`, { method: 'POST', headers: headers('application/vnd.api+json'), body: bodyOf(500 * KB) });
      expect(response.status).toBe(201);
      expect(await ticks.waitForRun((await json(response)).runId)).toMatchObject({ status: 'completed', output: 500 * KB });
      const over = await fetch(`${base}/flows/big%2Fstore/runs`, { method: 'POST', headers: headers('application/vnd.api+json'), body: bodyOf(1200 * KB) });
      expect(over.status).toBe(413);
      const body = await json(over);
      expect(Object.keys(body).sort()).toEqual(['error', 'message', 'statusCode']);
      expect(body.statusCode).toBe(413);
      expect(log.errors).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
