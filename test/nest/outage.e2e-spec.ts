import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Flow, GoTickModule, type FlowContext } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';

@Injectable()
class EchoFlows {
  @Flow('outage/echo')
  async echo(ctx: FlowContext<string>) {
    return ctx.memo('echo', () => ctx.input);
  }
}

const TOKEN = 'outage-token';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('REST routes and app.close() with Redis frozen', () => {
  let redis: TestRedis;
  let app: INestApplication | undefined;
  let base: string;

  beforeEach(async () => {
    redis = await startRedis();
    const moduleRef = await Test.createTestingModule({
      imports: [
        GoTickModule.forRoot({
          connection: redis.url,
          prefix: `rest-outage${process.pid}`,
          commandTimeout: '1s',
          shutdownTimeout: '2s',
          http: { path: 'gotick', token: TOKEN },
        }),
      ],
      providers: [EchoFlows],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/gotick`;
  });
  afterEach(async () => {
    await redis.thaw();
    await app?.close();
    await redis.stop();
  });

  it('answers 503 within commandTimeout on trigger, get and list, instead of hanging', async () => {
    const created = await fetch(`${base}/flows/outage%2Fecho/runs`, { method: 'POST', headers, body: JSON.stringify({ input: 'hi', runId: 'r1' }) });
    expect(created.status).toBe(201);
    await redis.freeze();
    const requests = [
      fetch(`${base}/flows/outage%2Fecho/runs`, { method: 'POST', headers, body: JSON.stringify({ input: 'hi' }) }),
      fetch(`${base}/runs/r1`, { headers }),
      fetch(`${base}/runs?flowId=outage%2Fecho`, { headers }),
    ].map(async (request) => {
      const started = Date.now();
      const response = await request;
      return { status: response.status, body: (await response.json()) as { error: string }, ms: Date.now() - started };
    });
    for (const { status, body, ms } of await Promise.all(requests)) {
      expect(status).toBe(503);
      expect(body.error).toBe('RedisUnavailableError');
      expect(ms).toBeLessThan(3000);
    }
  });

  it('app.close() returns within shutdownTimeout plus a margin', async () => {
    await redis.freeze();
    const started = Date.now();
    await app!.close();
    app = undefined;
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
