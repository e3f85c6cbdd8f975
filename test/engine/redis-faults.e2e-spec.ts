import type { FlowContext } from '../../lib/engine';
import { EngineHarness } from '../support/engine-harness';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

describe('when Redis goes away', () => {
  let redis: TestRedis;
  let harness: EngineHarness;

  beforeEach(async () => {
    redis = await startRedis();
    harness = new EngineHarness(redis.url);
  });
  afterEach(async () => {
    await harness.closeAll();
    await redis.stop();
  });

  it('reconnects by itself after a redis-server restart under load, and every run completes', async () => {
    const engine = await harness.start(
      [
        {
          id: 'steady',
          handler: async (ctx: FlowContext<number>) => {
            const a = await ctx.memo('a', () => ctx.input);
            await ctx.sleep('nap', 100);
            const b = await ctx.memo('b', () => a + 1);
            return b;
          },
        },
      ],
      { worker: { concurrency: 20, lease: '2s' }, defaults: { retries: 3, backoff: 20 } },
    );
    const ids = (await Promise.all(Array.from({ length: 300 }, (_, i) => engine.trigger('steady', i)))).map((t) => t.runId);
    await waitUntil(async () => (await engine.listRuns({ status: 'completed', limit: 1 })).runs.length > 0, 'some runs to complete');
    await redis.restart();
    const restartedAt = Date.now();
    // Producers fail fast while Redis is away; the worker side must find its way back alone.
    let finishedAfterRestart = 0;
    for (const [i, runId] of ids.entries()) {
      const run = await engine.waitForRun<number, number>(runId, { timeout: '60s' });
      expect(run.status).toBe('completed');
      expect(run.output).toBe(i + 1);
      if (Date.parse(run.finishedAt!) > restartedAt) finishedAfterRestart++;
    }
    expect(finishedAfterRestart).toBeGreaterThan(0);
  });

  it('rejects a trigger at once with a clear error while Redis is down, and writes nothing half-way', async () => {
    const engine = await harness.start([{ id: 'noop', handler: async () => 'ok' }]);
    await redis.shutdown();
    const started = Date.now();
    await expect(engine.trigger('noop', {}, { runId: 'during-outage' })).rejects.toThrow(/Redis is unavailable/);
    expect(Date.now() - started).toBeLessThan(5000);
    await redis.boot();
    await waitUntil(async () => {
      try {
        return (await engine.getRun('during-outage')) === null;
      } catch {
        return false; // still reconnecting
      }
    }, 'the engine to reconnect');
    const { runId } = await engine.trigger('noop', {}, { runId: 'after-outage' });
    expect((await engine.waitForRun(runId)).output).toBe('ok');
  });
});
