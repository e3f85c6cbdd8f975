import { ChildFlowFailedError, type FlowContext } from '../../lib/engine';
import { useCluster } from '../support/redis-cluster';
import { waitUntil } from '../support/wait-until';

/**
 * A parent and its children hash to different slots (and queue partitions):
 * creating the child, waking the parent and cascading a cancel must never
 * need a script over both.
 */
describe('child flows on a 3-master Redis Cluster', () => {
  const env = useCluster();

  it('children across every shard return to their parents; failures and cancels cascade', async () => {
    const engine = await env.harness.start(
      [
        {
          id: 'kid/double',
          handler: async (ctx: FlowContext<{ n: number }>) => {
            if (ctx.input.n < 0) throw new Error('negative');
            return ctx.memo('double', () => ctx.input.n * 2);
          },
        },
        { id: 'kid/parked', handler: async (ctx: FlowContext) => ctx.waitForSignal('never', 'never') },
        {
          id: 'parent/sum',
          handler: async (ctx: FlowContext<{ n: number }>) => {
            const doubled = await ctx.child<number>('a', 'kid/double', { n: ctx.input.n });
            let failed = '';
            try {
              await ctx.child('b', 'kid/double', { n: -1 });
            } catch (err) {
              failed = (err as ChildFlowFailedError).childError.message;
            }
            return { doubled, failed };
          },
        },
        {
          id: 'parent/held',
          handler: async (ctx: FlowContext) => {
            await ctx.startChild('side', 'kid/parked');
            await ctx.child('down', 'kid/parked');
          },
        },
      ],
      { prefix: 'gtc', partitions: 3, worker: { concurrency: 12 } },
    );
    const ids = (await Promise.all(Array.from({ length: 30 }, (_, n) => engine.trigger('parent/sum', { n })))).map((t) => t.runId);
    for (const [n, runId] of ids.entries()) {
      const run = await engine.waitForRun(runId, { timeout: '10s' });
      expect(run.output).toEqual({ doubled: n * 2, failed: expect.stringContaining('negative') });
      expect((await engine.listRuns({ parentRunId: runId })).runs.map((r) => r.parentRunId)).toEqual([runId, runId]);
    }

    const held = (await Promise.all(Array.from({ length: 6 }, () => engine.trigger('parent/held')))).map((t) => t.runId);
    const kids: string[] = [];
    for (const runId of held) {
      const run = await waitUntil(async () => {
        const view = await engine.getRun(runId);
        return view?.steps.find((s) => s.key === 'down')?.status === 'waiting' ? view : undefined;
      }, `parent ${runId} to wait`);
      kids.push(...run.steps.map((s) => s.childRunId!));
    }
    for (const runId of held) await engine.cancel(runId);
    await waitUntil(async () => (await Promise.all(kids.map((id) => engine.getRun(id)))).every((r) => r?.status === 'cancelled'), 'every child to be cancelled', 5000);
  }, 60_000);
});
