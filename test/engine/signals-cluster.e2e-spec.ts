import type { FlowContext } from '../../lib/engine';
import { useCluster } from '../support/redis-cluster';
import { waitUntil } from '../support/wait-until';

/** The mailbox shares its run's hash tag, so the signal, take and retry scripts never cross slots. */
describe('signals and retry on a 3-master Redis Cluster', () => {
  const env = useCluster();

  it('delivers signals and retries failed runs, across every shard', async () => {
    const state = { broken: true };
    const engine = await env.harness.start(
      [
        {
          id: 'cluster/signal',
          handler: async (ctx: FlowContext) => {
            const got = await ctx.waitForSignal<number>('w', 'go', { timeout: '30s' });
            return ctx.memo('after', () => {
              if (state.broken) throw new Error('not yet');
              return got!.payload * 2;
            }, { retries: 0 });
          },
        },
      ],
      { prefix: 'gts', partitions: 3, worker: { concurrency: 12 } },
    );
    const ids = (await Promise.all(Array.from({ length: 30 }, (_, i) => engine.trigger('cluster/signal', undefined, { runId: `c-${i}` })))).map((t) => t.runId);
    // Half get their signal before they wait, half while they wait.
    for (const [i, runId] of ids.entries()) if (i % 2 === 0) await engine.signal(runId, 'go', i);
    for (const [i, runId] of ids.entries()) {
      if (i % 2 === 0) continue;
      await waitUntil(async () => (await engine.getRun(runId))?.steps[0]?.status === 'waiting', `run ${runId} to wait`);
      await engine.signal(runId, 'go', i);
    }
    for (const runId of ids) expect((await engine.waitForRun(runId, { timeout: '10s' })).status).toBe('failed');
    state.broken = false;
    for (const runId of ids) await engine.retry(runId);
    for (const [i, runId] of ids.entries()) {
      const run = await engine.waitForRun(runId, { timeout: '10s' });
      expect(run.output).toBe(i * 2);
      expect(run.retries).toBe(1);
    }
  });
});
