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
    // The sample closes unpaid orders after 30 minutes; a test waits 1 s.
    process.env.PAYMENT_TIMEOUT = '1s';
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
    delete process.env.PAYMENT_TIMEOUT;
  });

  const createOrder = async () => {
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'book' }),
    });
    expect(response.status).toBe(201);
    const created = (await response.json()) as { order: { id: string; status: string }; runId: string };
    expect(created.order.status).toBe('open');
    return created;
  };
  const readOrder = async (id: string) =>
    (await (await fetch(`${url}/orders/${id}`)).json()) as { status: string; createdAt: string; closedAt?: string; paidAt?: string; amount?: number };
  const pay = (id: string, amount: number) =>
    fetch(`${url}/orders/${id}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount }) });

  it('closes an order that was not paid within PAYMENT_TIMEOUT, and refuses a payment after that', async () => {
    const { order, runId } = await createOrder();
    const closed = await waitUntil(async () => {
      const current = await readOrder(order.id);
      return current.status === 'closed' ? current : undefined;
    }, 'the order to close', 15_000);
    expect(Date.parse(closed.closedAt!) - Date.parse(closed.createdAt)).toBeGreaterThanOrEqual(1000);

    const run = await client.waitForRun(runId);
    expect(run.output).toEqual({ orderId: order.id, status: 'closed' });
    expect(run.steps.map((step) => [step.key, step.kind, step.result])).toEqual([
      ['payment', 'signal', null],
      ['close-order', 'task', undefined],
    ]);
    const late = await pay(order.id, 42);
    expect(late.status).toBe(409);
    expect((await readOrder(order.id)).status).toBe('closed');
  });

  it('marks an order paid when POST /orders/:id/pay comes in time, and never closes it', async () => {
    const { order, runId } = await createOrder();
    await waitUntil(async () => (await client.getRun(runId))?.steps[0]?.status === 'waiting', 'the run to wait for the payment');
    const paid = await pay(order.id, 42);
    expect(paid.status).toBe(202);
    const run = await client.waitForRun(runId, { timeout: '5s' });
    expect(run.output).toEqual({ orderId: order.id, status: 'paid', amount: 42, receipt: `rcpt-${order.id}-42` });
    expect(run.steps.map((step) => [step.key, step.kind, step.status])).toEqual([
      ['payment', 'signal', 'completed'],
      ['charge', 'child', 'completed'],
      ['mark-paid', 'task', 'completed'],
    ]);
    // The charge ran as its own run of the payment flow, a child of the order's run.
    const charge = await client.getRun(run.steps[1].childRunId!);
    expect(charge).toEqual(expect.objectContaining({ flowId: 'payments/charge', status: 'completed', parentRunId: runId, output: { receipt: `rcpt-${order.id}-42` } }));
    // The run has ended without a close-order step: nothing can close the order any more.
    expect(await readOrder(order.id)).toEqual(expect.objectContaining({ status: 'paid', amount: 42, receipt: `rcpt-${order.id}-42` }));
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

  it('schedules the nightly report at 02:00 Berlin time; a run of it reports the orders by status', async () => {
    const [nightly] = (await client.listSchedules()).filter((s) => s.flowId === 'reports/nightly');
    expect(nightly).toMatchObject({ scheduleId: 'reports/nightly', source: 'code', spec: { cron: '0 2 * * *', tz: 'Europe/Berlin' } });
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(nightly.nextAt!));
    expect(local).toBe('02:00');
    const { runId } = await client.trigger('reports/nightly', { title: 'now' });
    const run = await client.waitForRun<unknown, Record<string, number>>(runId, { timeout: '5s' });
    expect(run.steps.map((step) => step.key)).toEqual(['count-orders', 'send-report']);
    expect(Object.keys(run.output!)).toEqual(['open', 'paid', 'closed']);
  });

  it('answers /health through Terminus and shows its run queue in Bull Board at /queues', async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { info: Record<string, { status: string }> }).info.gotick.status).toBe('up');
    const board = (await (await fetch(`${url}/queues/api/queues`)).json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(board.queues.map((queue) => [queue.name, queue.readOnlyMode])).toEqual([['gotick/runs', true]]);
  });

  it('shows Prometheus metrics of its runs at /gotick/metrics, behind the token', async () => {
    expect((await fetch(`${url}/gotick/metrics`)).status).toBe(401);
    const { runId } = await client.trigger('demo/parallel-translate', { text: 'si' });
    await client.waitForRun(runId);
    const metrics = await fetch(`${url}/gotick/metrics`, { headers: { authorization: 'Bearer sample-test-token' } });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    const completed = /gotick_runs_finished_total\{flow="demo\/parallel-translate",status="completed"\} (\d+)/.exec(text);
    expect(Number(completed?.[1])).toBeGreaterThanOrEqual(1);
  });
});
