import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Flow, GoTickModule, TickClient, TickClientError, type FlowContext } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

const state = { broken: true };

@Injectable()
class PaymentFlows {
  @Flow('shop/await-payment')
  async awaitPayment(ctx: FlowContext) {
    const paid = await ctx.waitForSignal<{ amount: number }>('paid', 'payment');
    return paid?.payload;
  }

  @Flow('shop/fragile')
  async fragile(ctx: FlowContext) {
    return ctx.memo(
      'call',
      () => {
        if (state.broken) throw new Error('upstream is down');
        return 'fixed';
      },
      { retries: 0 },
    );
  }
}

const TOKEN = 'sig-token';

describe('signal and retry routes over a real socket', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  let client: TickClient;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const post = (path: string, body: unknown = {}) => fetch(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

  beforeAll(async () => {
    redis = await startRedis();
    const moduleRef = await Test.createTestingModule({
      imports: [
        GoTickModule.forRoot({
          connection: redis.url,
          prefix: `sighttp${process.pid}`,
          http: { path: 'gotick', token: TOKEN },
          limits: { maxPayloadBytes: 2048, maxSignalsPerRun: 2 },
        }),
      ],
      providers: [PaymentFlows],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/gotick`;
    client = new TickClient({ baseUrl: base, token: TOKEN });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  const waiting = (runId: string) =>
    waitUntil(async () => (await client.getRun(runId))?.steps.find((s) => s.key === 'paid')?.status === 'waiting', 'the wait');

  it('202 { runId, name } wakes the waiting run; TickClient.signal does the same', async () => {
    const { runId } = await client.trigger('shop/await-payment');
    await waiting(runId);
    const sent = await post(`/runs/${runId}/signals/payment`, { payload: { amount: 42 } });
    expect(sent.status).toBe(202);
    expect(await sent.json()).toEqual({ runId, name: 'payment' });
    expect((await client.waitForRun(runId, { timeout: '5s' })).output).toEqual({ amount: 42 });

    const second = await client.trigger('shop/await-payment');
    // Sent before the flow reaches the wait (maybe before it even starts): kept for it.
    await client.signal(second.runId, 'payment', { amount: 7 });
    expect((await client.waitForRun(second.runId, { timeout: '5s' })).output).toEqual({ amount: 7 });
  });

  it('404 unknown run, 409 finished run, 400 bad name, 413 payload over the limit, 429 full mailbox', async () => {
    const unknown = await post('/runs/no-such-run/signals/payment', { payload: 1 });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual(expect.objectContaining({ error: 'RunNotFoundError' }));

    const { runId: doneId } = await client.trigger('shop/await-payment');
    await client.signal(doneId, 'payment', { amount: 1 });
    await client.waitForRun(doneId);
    const finished = await post(`/runs/${doneId}/signals/payment`, { payload: 1 });
    expect(finished.status).toBe(409);
    expect(await finished.json()).toEqual(expect.objectContaining({ error: 'RunFinishedError', message: expect.stringContaining('completed') }));

    const { runId } = await client.trigger('shop/await-payment');
    await waiting(runId);
    const longName = await post(`/runs/${runId}/signals/${'n'.repeat(201)}`, {});
    expect(longName.status).toBe(400);
    expect(await longName.json()).toEqual(expect.objectContaining({ error: 'InvalidSignalNameError' }));

    const big = await post(`/runs/${runId}/signals/payment`, { payload: 'x'.repeat(3000) });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual(expect.objectContaining({ error: 'PayloadTooLargeError' }));

    // Two signals of names nobody waits for fill the mailbox (limit 2); the third is refused, not dropped.
    await client.signal(runId, 'note', 1);
    await client.signal(runId, 'note', 2);
    const full = await post(`/runs/${runId}/signals/note`, { payload: 3 });
    expect(full.status).toBe(429);
    expect(await full.json()).toEqual(expect.objectContaining({ error: 'SignalMailboxFullError', message: expect.stringContaining('limits.maxSignalsPerRun') }));
    await expect(client.signal(runId, 'payment', 1)).rejects.toMatchObject({ status: 429 });
    // Refused ones changed nothing: the run still waits.
    expect((await client.getRun(runId))!.status).toBe('sleeping');
  });

  it('retry: 200 { runId, status } queues a failed run again; 409 for a completed run, 404 for an unknown one', async () => {
    state.broken = true;
    const { runId } = await client.trigger('shop/fragile');
    expect((await client.waitForRun(runId)).status).toBe('failed');
    state.broken = false;
    const retried = await post(`/runs/${runId}/retry`);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toEqual({ runId, status: 'queued' });
    const run = await client.waitForRun(runId);
    expect(run).toEqual(expect.objectContaining({ status: 'completed', output: 'fixed', retries: 1 }));
    expect(run.previousErrors).toEqual([expect.objectContaining({ name: 'StepFailedError', stepKey: 'call' })]);

    const again = await post(`/runs/${runId}/retry`);
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual(expect.objectContaining({ error: 'RunNotRetriableError' }));
    await expect(client.retry(runId)).rejects.toMatchObject({ status: 409 });
    await expect(client.retry('no-such-run')).rejects.toBeInstanceOf(TickClientError);
    expect((await post('/runs/no-such-run/retry')).status).toBe(404);
  });
});
