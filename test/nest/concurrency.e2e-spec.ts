import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { Flow, FlowDefinitionError, GoTickModule, TickService, type FlowContext } from '../../lib';
import { bootApp } from '../support/nest-app';
import { startRedis, type TestRedis } from '../support/redis-server';

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
