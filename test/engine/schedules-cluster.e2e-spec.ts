import type { FlowContext } from '../../lib/engine';
import { useCluster } from '../support/redis-cluster';
import { waitUntil } from '../support/wait-until';

describe('schedules on a 3-master Redis Cluster', () => {
  const env = useCluster();

  it('two nodes, every 1s: one run per slot, consecutive slots, the run view and the list name the schedule', async () => {
    const executions = new Map<string, number>();
    const flow = { id: 'cluster/tick', options: { schedule: { id: 'cluster-every', every: '1s' as const, input: { n: 1 } } }, handler: async (ctx: FlowContext<{ n: number }>) => void executions.set(ctx.runId, (executions.get(ctx.runId) ?? 0) + ctx.input.n) };
    const options = { prefix: 'gts', partitions: 3 };
    const [a, b] = [await env.harness.start([flow], options), await env.harness.start([flow], options)];
    await waitUntil(() => executions.size >= 5, 'five slots', 20_000);
    const [schedule] = await b.listSchedules();
    expect(schedule).toMatchObject({ scheduleId: 'cluster-every', flowId: 'cluster/tick', source: 'code', spec: { every: '1s', input: { n: 1 } } });
    expect(await a.unschedule('cluster-every')).toBe(true);
    const { runs } = await a.listRuns({ flowId: 'cluster/tick', limit: 100 });
    await waitUntil(async () => (await Promise.all(runs.map((run) => a.getRun(run.runId)))).every((run) => run!.status === 'completed'), 'runs to finish');
    const slots = runs.map((run) => Date.parse(run.slotAt!)).sort();
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.slice(1).every((slot, i) => slot - slots[i] === 1000)).toBe(true);
    expect([...executions.values()].every((n) => n === 1)).toBe(true);
    const view = await a.getRun(runs[0].runId);
    expect(view).toMatchObject({ scheduleId: 'cluster-every', slotAt: runs[0].slotAt, input: { n: 1 } });
  }, 60_000);
});
