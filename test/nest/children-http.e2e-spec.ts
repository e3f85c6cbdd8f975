import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Flow, GoTickModule, TickClient, TickService, defineFlow, type FlowContext } from '../../lib';
import { listenApp } from '../support/nest-app';
import { startRedis, type TestRedis } from '../support/redis-server';

const Charge = defineFlow<{ amount: number }, { receipt: string }>('payments/charge');

@Injectable()
class Flows {
  @Flow(Charge)
  async charge(ctx: FlowContext<{ amount: number }>) {
    return { receipt: `r-${ctx.input.amount}` };
  }

  @Flow('orders/place')
  async place(ctx: FlowContext<{ amount: number }>) {
    const paid = await ctx.child('pay', Charge, { amount: ctx.input.amount });
    await ctx.startChild('receipt', Charge, { amount: 0 });
    return paid.receipt;
  }
}

const TOKEN = 'children-token';

describe('child runs over REST and TickClient, on a real socket', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    redis = await startRedis();
    ({ app, base } = await listenApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `ch${process.pid}`, http: { path: 'gotick', token: TOKEN } })],
      providers: [Flows],
    }));
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  it('GET /runs?parentRunId= and TickClient.listRuns({ parentRunId }) list a run\'s children; the views link both ways', async () => {
    const ticks = app.get(TickService);
    const { runId } = await ticks.trigger('orders/place', { amount: 5 });
    const parent = await ticks.waitForRun(runId, { timeout: '5s' });
    expect(parent.output).toBe('r-5');
    const childIds = parent.steps.map((s) => s.childRunId);

    const response = await fetch(`${base}/runs?parentRunId=${runId}`, { headers: auth });
    expect(response.status).toBe(200);
    const page = (await response.json()) as { runs: Array<{ runId: string; parentRunId?: string }> };
    expect(page.runs.map((r) => r.runId)).toEqual([...childIds].reverse());
    expect(page.runs.every((r) => r.parentRunId === runId)).toBe(true);

    const client = new TickClient({ baseUrl: base, token: TOKEN });
    expect((await client.listRuns({ parentRunId: runId })).runs.map((r) => r.runId)).toEqual([...childIds].reverse());
    const child = await client.getRun(childIds[0]!);
    expect(child).toMatchObject({ parentRunId: runId, parentStepKey: 'pay', flowId: 'payments/charge' });
    expect((await client.getRun(runId))!.steps[0]).toMatchObject({ key: 'pay', kind: 'child', childRunId: childIds[0] });

    const bad = await fetch(`${base}/runs?parentRunId=${encodeURIComponent('not a run!')}`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('parentRunId');
  });
});
