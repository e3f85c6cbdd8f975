import 'reflect-metadata';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TickClient } from 'nestjs-gotick';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

describe('the sample app', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let url: string;
  let client: TickClient;

  beforeAll(async () => {
    redis = await startRedis();
    process.env.REDIS_URL = redis.url;
    process.env.GOTICK_TOKEN = 'sample-test-token';
    // Imported after the env is set: the module reads it when the file loads.
    const { AppModule } = await import('../../sample-app/app.module');
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
    client = new TickClient({ baseUrl: `${url}/gotick`, token: 'sample-test-token' });
  });
  afterAll(async () => {
    await app?.close();
    await redis.stop();
    delete process.env.REDIS_URL;
    delete process.env.GOTICK_TOKEN;
  });

  it('closes an order 3 s after POST /orders', async () => {
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'book' }),
    });
    expect(response.status).toBe(201);
    const { order, runId } = (await response.json()) as { order: { id: string; status: string }; runId: string };
    expect(order.status).toBe('open');

    const closed = await waitUntil(async () => {
      const current = (await (await fetch(`${url}/orders/${order.id}`)).json()) as { status: string; createdAt: string; closedAt?: string };
      return current.status === 'closed' ? current : undefined;
    }, 'the order to close', 15_000);
    expect(Date.parse(closed.closedAt!) - Date.parse(closed.createdAt)).toBeGreaterThanOrEqual(3000);

    const run = await client.waitForRun(runId);
    expect(run.steps.map((step) => step.key)).toEqual(['start_at', 'wait-close', 'close-order']);
  });

  it('downloads in parallel through the REST routes', async () => {
    const { runId } = await client.trigger('demo/parallel-download', { src: 'gotick' });
    const run = await client.waitForRun<unknown, string[]>(runId, { timeout: '15s' });
    expect(run.output).toEqual('gotick'.split('').map((c) => `download(${c}) on attempt 1`));
  });

  it('translates with async + wait', async () => {
    const { runId } = await client.trigger('demo/parallel-translate', { text: 'hola' });
    expect((await client.waitForRun(runId)).output).toEqual({ en: 'en(hola)', length: 4 });
  });
});
