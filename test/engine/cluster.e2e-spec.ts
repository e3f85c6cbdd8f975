import type { FlowContext } from '../../lib/engine';
import { waitUntil } from '../support/wait-until';
import { useCluster, type TestRedisCluster } from '../support/redis-cluster';

/** Which master owns a key, by asking the cluster. */
async function ownerOf(cluster: TestRedisCluster, key: string): Promise<string> {
  const slot = (await cluster.client.cluster('KEYSLOT', key)) as number;
  const ranges = await cluster.client.cluster('SLOTS');
  const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
  const [host, port] = range[2];
  return `${host}:${port}`;
}

describe('on a 3-master Redis Cluster', () => {
  const env = useCluster();

  it('runs flows with sleeps, retries and fan-out, each run in one slot, queue partitions spread over the shards', async () => {
    const engine = await env.harness.start(
      [
        {
          id: 'cluster/flow',
          handler: async (ctx: FlowContext<number>) => {
            const parts = await ctx.array('split', () => [1, 2, 3].map((n) => n * ctx.input));
            await ctx.sleep('nap', 50);
            await ctx.task('flaky', (task) => {
              if (task.attempt === 1) throw new Error('first attempt fails');
            }, { backoff: 20 });
            const done = await ctx.wait(ctx.asyncArray('part', parts, async (_t, part) => part + 1), { concurrency: 2 });
            return done.reduce((a, b) => a + b, 0);
          },
        },
      ],
      { prefix: 'gtc', partitions: 6, worker: { concurrency: 12 } },
    );
    const inputs = Array.from({ length: 60 }, (_, i) => i);
    const ids = (await Promise.all(inputs.map((n) => engine.trigger('cluster/flow', n)))).map((t) => t.runId);
    for (const [n, runId] of ids.entries()) {
      const run = await engine.waitForRun<number, number>(runId, { timeout: '30s' });
      expect(run.status).toBe('completed');
      expect(run.output).toBe(6 * n + 3);
    }
    // A run is one hash (fields and steps) on one shard: its scripts never cross slots.
    const view = await engine.getRun(ids[0]);
    expect(view!.steps.map((step) => step.key)).toEqual(['split', 'nap', 'flaky', 'part:0', 'part:1', 'part:2']);
    expect(await env.cluster.client.hexists(`gtc:run:{${ids[0]}}`, 's:flaky')).toBe(1);
    // Six partitions, each its own hash tag, all of them used (their event streams exist),
    // and together on more than one master.
    const partitions = Array.from({ length: 6 }, (_, i) => `{gtc:p${i}}:runs:events`);
    expect(await Promise.all(partitions.map((key) => env.cluster.client.exists(key)))).toEqual([1, 1, 1, 1, 1, 1]);
    const owners = new Set(await Promise.all(partitions.map((key) => ownerOf(env.cluster, key))));
    expect(owners.size).toBeGreaterThan(1);
    const listed = await engine.listRuns({ flowId: 'cluster/flow', limit: 100 });
    expect(listed.runs).toHaveLength(60);
  });

  it('triggerMany spreads runs over the shards and partitions, idempotent per runId; waitForRun is woken through cluster pub/sub', async () => {
    const engine = await env.harness.start(
      [{ id: 'cluster/echo', handler: async (ctx: FlowContext<number>) => ctx.memo('double', () => ctx.input * 2) }],
      { prefix: 'gtcb', partitions: 4, worker: { concurrency: 12 } },
    );
    const items = Array.from({ length: 300 }, (_, i) => ({ input: i, runId: `cb-${i}` }));
    expect((await engine.triggerMany('cluster/echo', items)).every((r) => r.created)).toBe(true);
    expect((await engine.triggerMany('cluster/echo', items.slice(0, 5))).map((r) => r.created)).toEqual([false, false, false, false, false]);
    const runs = await Promise.all(items.map((item) => engine.waitForRun<number, number>(item.runId, { timeout: '30s' })));
    expect(runs.map((run) => run.output)).toEqual(items.map((item) => item.input * 2));
    // Woken, not polled: each run ends within milliseconds, between the waiter's first read and its
    // first fallback read 250 ms later, so only the published end can resolve the waiter this soon.
    for (let i = 0; i < 5; i++) {
      const began = Date.now();
      const run = await engine.trigger('cluster/echo', i);
      expect((await engine.waitForRun(run, { timeout: '10s' })).status).toBe('completed');
      expect(Date.now() - began).toBeLessThan(200);
    }
  });
  it('sleeping runs wake through the timer pump: the wakes set shares the timers slot, no queue job waits', async () => {
    const engine = await env.harness.start(
      [{ id: 'cluster/alarm', handler: async (ctx: FlowContext<{ at: number }>) => void (await ctx.sleepUntil('nap', ctx.input.at)) }],
      { prefix: 'gtcw', partitions: 4, worker: { concurrency: 12 } },
    );
    expect(await env.cluster.client.cluster('KEYSLOT', '{gtcw:timers}:wakes')).toBe(await env.cluster.client.cluster('KEYSLOT', 'gtcw:timers'));
    const at = Date.now() + 2500;
    const ids = (await Promise.all(Array.from({ length: 40 }, () => engine.trigger('cluster/alarm', { at })))).map((t) => t.runId);
    await waitUntil(async () => (await env.cluster.client.zcard('{gtcw:timers}:wakes')) === 40, 'every run to park', 2000);
    const delayed = await Promise.all(Array.from({ length: 4 }, (_, i) => env.cluster.client.zcard(`{gtcw:p${i}}:runs:delayed`)));
    expect(delayed).toEqual([0, 0, 0, 0]);
    for (const runId of ids) {
      const run = await engine.waitForRun(runId, { timeout: '15s' });
      expect({ status: run.status, executions: run.executions }).toEqual({ status: 'completed', executions: 2 });
      expect(Date.parse(run.finishedAt!)).toBeGreaterThanOrEqual(at);
    }
    expect(await env.cluster.client.zcard('{gtcw:timers}:wakes')).toBe(0);
  });
});
