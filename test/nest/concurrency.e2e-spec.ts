import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { Flow, FlowDefinitionError, GoTickModule, TickService, type FlowContext, type RunPage, type RunView } from '../../lib';
import { TickClient } from '../../lib/client';
import { bootApp, listenApp } from '../support/nest-app';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

/** Per-key peaks, as seen from inside the tasks. */
const current = new Map<string, number>();
const peaks = new Map<string, number>();
const all = { current: 0, peak: 0 };

@Injectable()
class CrmFlows {
  @Flow('crm/sync', { concurrency: { limit: 1, key: (input: { customerId: string }) => input.customerId } })
  async sync(ctx: FlowContext<{ customerId: string }>) {
    await ctx.task('push', async () => {
      const key = ctx.input.customerId;
      current.set(key, (current.get(key) ?? 0) + 1);
      peaks.set(key, Math.max(peaks.get(key) ?? 0, current.get(key)!));
      all.peak = Math.max(all.peak, ++all.current);
      await delay(15);
      all.current--;
      current.set(key, current.get(key)! - 1);
    });
  }
}

/** Each invoice run holds its customer's slot until the test releases its number. */
const invoiceGates = new Map<number, () => void>();

@Injectable()
class InvoiceFlows {
  @Flow('crm/invoice', { concurrency: { limit: 1, key: (input: { customerId: string }) => input.customerId } })
  async invoice(ctx: FlowContext<{ customerId: string; n: number }>) {
    await ctx.task('send', () => new Promise<void>((resolve) => invoiceGates.set(ctx.input.n, resolve)));
  }
}

describe('@Flow(id, { concurrency }) in a Nest app', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis?.stop());

  it('caps runs per key: one sync per customer at a time, customers side by side', async () => {
    const app = await bootApp({ imports: [GoTickModule.forRoot({ connection: redis.url, prefix: 'nestconc' })], providers: [CrmFlows] });
    try {
      const ticks = app.get(TickService);
      const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => ticks.trigger('crm/sync', { customerId: `c${i % 3}` })));
      for (const { runId } of ids) expect((await ticks.waitForRun(runId, { timeout: '20s' })).status).toBe('completed');
      expect([...peaks.entries()].sort()).toEqual([['c0', 1], ['c1', 1], ['c2', 1]]);
      // The cap is per key: different customers did run side by side.
      expect(all.peak).toBeGreaterThan(1);
    } finally {
      await app.close();
    }
  });

  it('GET /runs/:runId and GET /runs say why a run is queued: waitingForSlot with its key, over a real socket; TickClient reads it too', async () => {
    const token = 'conc-token';
    const { app, base } = await listenApp({ imports: [GoTickModule.forRoot({ connection: redis.url, prefix: 'nestconcwhy', http: { path: 'gotick', token } })], providers: [InvoiceFlows] });
    const get = async <T>(path: string): Promise<{ status: number; body: T }> => {
      const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as T };
    };
    try {
      const ticks = app.get(TickService);
      const first = await ticks.trigger('crm/invoice', { customerId: 'customer-42', n: 1 });
      await waitUntil(() => invoiceGates.has(1), 'the first invoice to hold the slot of customer-42');
      const second = await ticks.trigger('crm/invoice', { customerId: 'customer-42', n: 2 });
      const waiting = await waitUntil(async () => {
        const { body } = await get<RunView>(`/runs/${second.runId}`);
        return body.waitingForSlot ? body : undefined;
      }, 'GET /runs/:runId to show the second invoice waiting for a slot');
      expect(waiting).toMatchObject({ status: 'queued', waitingForSlot: { key: 'customer-42', since: expect.any(String) } });
      expect(Number.isNaN(Date.parse(waiting.waitingForSlot!.since))).toBe(false);
      const { status, body: holder } = await get<RunView>(`/runs/${first.runId}`);
      expect([status, holder.status, 'waitingForSlot' in holder]).toEqual([200, 'running', false]);
      const { body: page } = await get<RunPage>('/runs?flowId=crm%2Finvoice&status=queued');
      expect(page.runs.map((run) => [run.runId, run.waitingForSlot?.key])).toEqual([[second.runId, 'customer-42']]);
      // The client shares the type: nothing to map.
      const client = new TickClient({ baseUrl: base, token });
      expect((await client.getRun(second.runId))!.waitingForSlot).toEqual(waiting.waitingForSlot);

      invoiceGates.get(1)!();
      await waitUntil(() => invoiceGates.has(2), 'the second invoice to start');
      const { body: started } = await get<RunView>(`/runs/${second.runId}`);
      expect([started.status, 'waitingForSlot' in started]).toEqual(['running', false]);
      invoiceGates.get(2)!();
      expect(await ticks.waitForRun(second.runId, { timeout: '10s' })).toMatchObject({ status: 'completed' });
    } finally {
      for (const release of invoiceGates.values()) release();
      await app.close();
    }
  });

  it('stops bootstrap with FlowDefinitionError on a bad limit, naming the flow', async () => {
    @Injectable()
    class Bad {
      @Flow('bad/cap', { concurrency: 0 })
      async run() {}
    }
    const boot = bootApp({ imports: [GoTickModule.forRoot({ connection: redis.url, prefix: 'nestconcbad' })], providers: [Bad] });
    await expect(boot).rejects.toThrow(FlowDefinitionError);
    await expect(boot).rejects.toThrow(/concurrency limit of flow "bad\/cap" must be an integer from 1; got 0/);
  });
});
