import type { FlowContext } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

describe('a run whose queue job is lost', () => {
  const env = useEngines();

  it('is found by the reconciler and completes anyway', async () => {
    const prefix = 'lost-job';
    const engine = await env.harness.start(
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
    const delayed = await env.redis.client.zrange(`${prefix}:runs:delayed`, '0', '-1');
    expect(delayed).toHaveLength(1);
    await env.redis.client.zrem(`${prefix}:runs:delayed`, delayed[0]);
    await env.redis.client.del(`${prefix}:runs:${delayed[0]}`);

    const run = await engine.waitForRun(runId, { timeout: '30s' });
    expect(run.output).toBe('woke');
    expect(run.executions).toBe(2);
    expect(await env.redis.client.zscore(`${prefix}:timers`, runId)).toBeNull();
  });
});
