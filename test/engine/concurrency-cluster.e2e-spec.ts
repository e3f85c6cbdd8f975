import { setTimeout as delay } from 'node:timers/promises';
import type { FlowContext } from '../../lib/engine';
import { useCluster } from '../support/redis-cluster';

/**
 * On a Cluster every script of a concurrency group touches the group's two
 * keys only, tagged by flow and key, so no script crosses a slot (Redis
 * would refuse it with CROSSSLOT).
 */
describe('concurrency limits on a 3-master Redis Cluster', () => {
  const env = useCluster();

  it('per key, limit 2 with 4 keys, two nodes, 6 partitions: at most 2 per key execute at once', async () => {
    const current = new Map<string, number>();
    const peaks = new Map<string, number>();
    const flow = {
      id: 'cluster/capped',
      options: { concurrency: { limit: 2, key: (input: { key: string }) => input.key } },
      handler: async (ctx: FlowContext<{ key: string }>) =>
        ctx.task('work', async () => {
          const { key } = ctx.input;
          current.set(key, (current.get(key) ?? 0) + 1);
          peaks.set(key, Math.max(peaks.get(key) ?? 0, current.get(key)!));
          try {
            await delay(20);
          } finally {
            current.set(key, current.get(key)! - 1);
          }
        }),
    };
    const options = { prefix: 'gtcc', partitions: 6, worker: { concurrency: 10, lease: '2s' } } as const;
    const engine = await env.harness.start([flow], options);
    await env.harness.start([flow], options);
    const items = Array.from({ length: 48 }, (_, i) => ({ input: { key: `k${i % 4}` } }));
    const ids = (await engine.triggerMany('cluster/capped', items)).map((r) => r.runId);
    for (const runId of ids) expect((await engine.waitForRun(runId, { timeout: '30s' })).status).toBe('completed');
    expect([...peaks.entries()].sort()).toEqual([['k0', 2], ['k1', 2], ['k2', 2], ['k3', 2]]);
  });
});
