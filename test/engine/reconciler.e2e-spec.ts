import type { FlowContext } from '../../lib/engine';
import { EngineHarness } from '../support/engine-harness';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

describe('a run whose queue job is lost', () => {
  let redis: TestRedis;
  let harness: EngineHarness;

  beforeAll(async () => {
    redis = await startRedis();
    harness = new EngineHarness(redis.url);
  });
  afterAll(async () => {
    await harness.closeAll();
    await redis.stop();
  });

  it('is found by the reconciler and completes anyway', async () => {
    const prefix = 'lost-job';
    const engine = await harness.start(
      [
        {
          id: 'napper',
          handler: async (ctx: FlowContext) => {
            await ctx.sleep('nap', 300);
            return 'woke';
          },
        },
      ],
      { prefix, worker: { lease: '1s' } },
    );
    const { runId } = await engine.trigger('napper');
    await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the run to sleep');
    // Lose the resume job the way a crash or a lost AOF second could: delete it from the queue.
    const delayed = await redis.client.zrange(`${prefix}:runs:delayed`, '0', '-1');
    expect(delayed).toHaveLength(1);
    await redis.client.zrem(`${prefix}:runs:delayed`, delayed[0]);
    await redis.client.del(`${prefix}:runs:${delayed[0]}`);

    const run = await engine.waitForRun(runId, { timeout: '30s' });
    expect(run.output).toBe('woke');
    expect(run.executions).toBe(2);
    expect(await redis.client.zscore(`${prefix}:timers`, runId)).toBeNull();
  });
});
