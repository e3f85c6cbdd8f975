import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Flow, GoTickModule, OnFlowCancel, TickClient, TickClientError, TickService, type FlowContext, type FlowHookContext } from '../../lib';
import { listenApp } from '../support/nest-app';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

const cancelled: Array<{ runId: string; input: unknown; reason?: string }> = [];

@Injectable()
class OrderFlows {
  @Flow('orders/close', { timeout: '1h' })
  async close(ctx: FlowContext<{ orderId: string }>) {
    await ctx.sleep('grace', '30m');
    return 'closed';
  }

  @OnFlowCancel('orders/close')
  onCancel(ctx: FlowHookContext<{ orderId: string }>, { reason }: { reason?: string }) {
    cancelled.push({ runId: ctx.runId, input: ctx.input, reason });
  }
}

const TOKEN = 'run-control-token';

describe('run control over REST and TickClient, on a real socket', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    redis = await startRedis();
    ({ app, base } = await listenApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `rc${process.pid}`, http: { path: 'gotick', token: TOKEN } })],
      providers: [OrderFlows],
    }));
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  const sleeping = async (runId: string) => {
    const ticks = app.get(TickService);
    await waitUntil(async () => (await ticks.getRun(runId))?.status === 'sleeping', `run ${runId} to sleep`);
  };

  it('POST /runs/:runId/cancel: 200 { runId, status }, the reason stored, OnFlowCancel once; again: same answer', async () => {
    const ticks = app.get(TickService);
    const { runId } = await ticks.trigger('orders/close', { orderId: 'o-1' });
    await sleeping(runId);

    const response = await fetch(`${base}/runs/${runId}/cancel`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 'paid elsewhere' }) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ runId, status: 'cancelled' });
    expect(await ticks.getRun(runId)).toMatchObject({ status: 'cancelled', error: { name: 'RunCancelledError', message: 'paid elsewhere' } });

    const again = await fetch(`${base}/runs/${runId}/cancel`, { method: 'POST', headers: auth });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ runId, status: 'cancelled' });
    expect(cancelled.filter((c) => c.runId === runId)).toEqual([{ runId, input: { orderId: 'o-1' }, reason: 'paid elsewhere' }]);
  });

  it('answers 404 for an unknown run, 400 for a bad reason, 401 without the token', async () => {
    const unknown = await fetch(`${base}/runs/nope/cancel`, { method: 'POST', headers: auth, body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'RunNotFoundError', message: expect.stringContaining('"nope"') });

    const { runId } = await app.get(TickService).trigger('orders/close', { orderId: 'o-2' });
    const bad = await fetch(`${base}/runs/${runId}/cancel`, { method: 'POST', headers: auth, body: JSON.stringify({ reason: 7 }) });
    expect(bad.status).toBe(400);
    const extra = await fetch(`${base}/runs/${runId}/cancel`, { method: 'POST', headers: auth, body: JSON.stringify({ why: 'x' }) });
    expect(extra.status).toBe(400);

    const anonymous = await fetch(`${base}/runs/${runId}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
    expect((await app.get(TickService).getRun(runId))!.status).not.toBe('cancelled');
  });

  it('TickClient.cancel, and trigger with a timeout, over the same routes', async () => {
    const client = new TickClient({ baseUrl: base, token: TOKEN });
    const { runId } = await client.trigger('orders/close', { orderId: 'o-3' }, { timeout: '2h' });
    await sleeping(runId);
    expect(await client.cancel(runId, { reason: 'by client' })).toEqual({ runId, status: 'cancelled' });
    expect((await client.getRun(runId))!.error).toEqual({ name: 'RunCancelledError', message: 'by client' });
    const missing = await client.cancel('no-such-run').catch((err: unknown) => err);
    expect(missing).toBeInstanceOf(TickClientError);
    expect((missing as TickClientError).status).toBe(404);
  });
});
