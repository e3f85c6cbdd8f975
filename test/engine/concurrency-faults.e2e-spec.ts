import { setTimeout as delay } from 'node:timers/promises';
import type { FlowContext } from '../../lib/engine';
import { EngineHarness } from '../support/engine-harness';
import { startRedis } from '../support/redis-server';
import { WORKER_FLOWS, intervalsKey, startWorkerProcess, takeEvents, useWorkerProcesses, type StepInterval } from '../support/child-worker';
import { waitUntil } from '../support/wait-until';

/** The held-slot and waiting-line keys of a group without a key (see RunKeys.slots). */
const slotKeys = (prefix: string, flowId: string) => ({
  held: `${prefix}:slots:{${encodeURIComponent(flowId)}}:held`,
  waiting: `${prefix}:slots:{${encodeURIComponent(flowId)}}:waiting`,
});

describe('concurrency slots when a worker dies', () => {
  const env = useWorkerProcesses('concfault');

  it('a SIGKILLed worker frees its slot after its lease: the waiting runs then execute, one at a time', async () => {
    // Lease 1.5 s (the fixture's default). The second node is up before the kill, idle: the waiting runs have no job.
    const first = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'first', concurrency: 3, hangOn: ['hold'] });
    const a = await env.trigger.trigger(WORKER_FLOWS.limited);
    const [held] = await takeEvents(env.blocking, env.prefix, (e) => e.key === 'hold', 1);
    expect([held.runId, held.worker]).toEqual([a.runId, 'first']);
    await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'second', concurrency: 3 });
    const waiting = await Promise.all([env.trigger.trigger(WORKER_FLOWS.limited), env.trigger.trigger(WORKER_FLOWS.limited)]);
    const keys = slotKeys(env.prefix, WORKER_FLOWS.limited);
    await waitUntil(async () => (await env.redis.client.zcard(keys.waiting)) === 2, 'two runs to line up');
    // The one slot is the hung execution's.
    expect(await env.redis.client.zcard(keys.held)).toBe(1);

    await first.kill();
    const killedAt = Date.now();
    const ids = [a.runId, ...waiting.map((w) => w.runId)];
    for (const runId of ids) {
      const run = await env.trigger.waitForRun(runId, { timeout: '30s' });
      expect(run.status).toBe('completed');
    }
    const intervals = (await Promise.all(ids.map((id) => env.redis.client.lrange(intervalsKey(env.prefix, id), 0, -1))))
      .flat()
      .map((row) => JSON.parse(row) as StepInterval)
      .sort((x, y) => x.start - y.start);
    // Every body that ended ran on the surviving node, and no two overlapped (ticks are one Redis counter).
    expect(intervals).toHaveLength(3);
    for (const interval of intervals) expect(interval.worker).toBe('second');
    for (let i = 1; i < intervals.length; i++) expect(intervals[i].start).toBeGreaterThan(intervals[i - 1].end);
    const firstAfter = (await env.trigger.getRun(ids[0]))!;
    console.log(`SIGKILL: all three runs done ${Date.now() - killedAt} ms after the kill (lease 1.5 s); run A executions: ${firstAfter.executions}`);
    // Nothing left behind: the dead execution's slot lapsed and was dropped.
    expect(await env.redis.client.zcard(keys.held)).toBe(0);
    expect(await env.redis.client.zcard(keys.waiting)).toBe(0);
  });
});

describe('concurrency slots over a Redis restart', () => {
  it('20 runs, limit 2, redis-server restarted mid-way: every run completes and never more than 2 execute at once', async () => {
    const redis = await startRedis();
    const harness = new EngineHarness(redis.url);
    try {
      let current = 0;
      let peak = 0;
      const flow = {
        id: 'conc/restart',
        options: { concurrency: 2 },
        handler: async (ctx: FlowContext<number>) =>
          ctx.memo('work', async () => {
            peak = Math.max(peak, ++current);
            try {
              await delay(150);
            } finally {
              current--;
            }
            return ctx.input * 2;
          }),
      };
      const shared = { prefix: 'concrestart', worker: { concurrency: 5, lease: '2s' }, defaults: { retries: 3, backoff: 20 } } as const;
      const a = await harness.start([flow], shared);
      await harness.start([flow], shared);
      const ids = (await a.triggerMany('conc/restart', Array.from({ length: 20 }, (_, i) => ({ input: i + 1 })))).map((r) => r.runId);
      await waitUntil(async () => (await a.listRuns({ status: 'completed', limit: 5 })).runs.length >= 3, 'a few runs to complete');
      await redis.restart();
      const restartedAt = Date.now();
      let afterRestart = 0;
      for (const [i, runId] of ids.entries()) {
        const run = await a.waitForRun<number, number>(runId, { timeout: '30s' });
        expect(run.status).toBe('completed');
        expect(run.output).toBe((i + 1) * 2);
        if (Date.parse(run.finishedAt!) > restartedAt) afterRestart++;
      }
      expect(afterRestart).toBeGreaterThan(0);
      expect(peak).toBe(2);
    } finally {
      await harness.closeAll();
      await redis.stop();
    }
  });
});
