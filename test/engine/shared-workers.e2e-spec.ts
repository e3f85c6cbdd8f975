import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { GoTickEngine } from '../../lib/engine';
import { QUEUE_NAME } from '../../lib/engine/bullmq/run-queue';
import {
  WORKER_FLOWS,
  effectKey,
  gateKey,
  intervalsKey,
  killAllWorkerProcesses,
  startTriggerOnlyEngine,
  startWorkerProcess,
  startsKey,
  takeEvents,
  ticksKey,
  type StepInterval,
  type StepStart,
} from '../support/child-worker';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

const RUNS = 120;
const STEPS = ['step-0', 'step-1', 'step-2'];
const CONCURRENCY = 8;

interface RunHistory {
  runId: string;
  /** Every step body begun, in tick order. */
  starts: StepStart[];
  /** Every step body finished, in tick order. */
  intervals: StepInterval[];
  /** How many times each step's side effect happened. */
  effects: Record<string, number>;
}

/** Pairs of step bodies of one run that ran at the same time (ticks are a total order across processes). */
function overlaps(intervals: Array<{ key: string; execution: string; start: number; end: number }>): string[] {
  const found: string[] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const [a, b] = [intervals[i], intervals[j]];
      if (a.start < b.end && b.start < a.end) found.push(`${a.key}@${a.execution} [${a.start},${a.end}] overlaps ${b.key}@${b.execution} [${b.start},${b.end}]`);
    }
  }
  return found;
}

/**
 * Several nodes of one app (say, replicas of a deployment) point at one Redis
 * with one prefix. They must share the runs between them without ever
 * running one run in two places at once, and a node dying must not lose or
 * double anything beyond the step it had in flight.
 */
describe('two worker processes on one Redis and one prefix', () => {
  let redis: TestRedis;
  let blocking: Redis;
  let trigger: GoTickEngine | undefined;
  let inspector: Redis;
  let queue: Queue | undefined;
  let prefix: string;
  let testNo = 0;

  beforeAll(async () => {
    redis = await startRedis();
    blocking = redis.client.duplicate();
    inspector = redis.client.duplicate({ maxRetriesPerRequest: null });
  });
  beforeEach(async () => {
    prefix = `shared${++testNo}`;
    trigger = await startTriggerOnlyEngine(redis.url, prefix);
  });
  afterEach(async () => {
    await killAllWorkerProcesses();
    await trigger?.close();
    await queue?.close();
    queue = undefined;
  });
  afterAll(async () => {
    blocking?.disconnect();
    inspector?.disconnect();
    await redis?.stop();
  });

  /** Runs of three steps with two short sleeps between them, so each run goes back to the queue twice. */
  const triggerRuns = async (): Promise<string[]> => {
    const nap = () => 10 + Math.floor(Math.random() * 100);
    const triggered = await Promise.all(
      Array.from({ length: RUNS }, () => trigger!.trigger(WORKER_FLOWS.pipeline, { naps: [nap(), nap()] })),
    );
    return triggered.map((t) => t.runId);
  };

  const expectAllCompleted = async (runIds: string[]) => {
    for (const runId of runIds) {
      const run = await trigger!.waitForRun(runId, { timeout: '20s' });
      expect({ runId, status: run.status, output: run.output }).toEqual({ runId, status: 'completed', output: runId });
    }
  };

  const readHistories = async (runIds: string[]): Promise<RunHistory[]> => {
    const pipeline = redis.client.pipeline();
    for (const runId of runIds) {
      pipeline.lrange(startsKey(prefix, runId), 0, -1);
      pipeline.lrange(intervalsKey(prefix, runId), 0, -1);
      pipeline.mget(...STEPS.map((key) => effectKey(prefix, runId, key)));
    }
    const replies = (await pipeline.exec())!.map(([err, value]) => {
      if (err) throw err;
      return value as string[];
    });
    return runIds.map((runId, i) => {
      const byTick = <T extends { start: number }>(rows: string[]) => rows.map((row) => JSON.parse(row) as T).sort((a, b) => a.start - b.start);
      const counts = replies[i * 3 + 2];
      return {
        runId,
        starts: byTick<StepStart>(replies[i * 3]),
        intervals: byTick<StepInterval>(replies[i * 3 + 1]),
        effects: Object.fromEntries(STEPS.map((key, k) => [key, Number(counts[k] ?? 0)])),
      };
    });
  };

  it('share 120 runs: all complete, both nodes work, one execution at a time per run, no step twice', async () => {
    const nodes = await Promise.all(
      ['alpha', 'beta'].map((name) => startWorkerProcess({ url: redis.url, prefix, name, concurrency: CONCURRENCY })),
    );
    const runIds = await triggerRuns();
    await expectAllCompleted(runIds);

    const histories = await readHistories(runIds);
    const stepsByWorker = new Map<string, number>();
    for (const history of histories) {
      const { runId, starts, intervals, effects } = history;
      expect({ runId, begun: starts.map((s) => s.key) }).toEqual({ runId, begun: STEPS });
      expect({ runId, effects }).toEqual({ runId, effects: { 'step-0': 1, 'step-1': 1, 'step-2': 1 } });
      expect({ runId, overlaps: overlaps(intervals) }).toEqual({ runId, overlaps: [] });
      // Each stretch between two sleeps is one execution: the run goes back to the queue only to wait.
      expect({ runId, executions: new Set(intervals.map((i) => i.execution)).size }).toEqual({ runId, executions: 3 });
      for (const interval of intervals) stepsByWorker.set(interval.worker, (stepsByWorker.get(interval.worker) ?? 0) + 1);
    }
    expect([...stepsByWorker.keys()].sort()).toEqual(['alpha', 'beta']);
    expect([...stepsByWorker.values()].reduce((a, b) => a + b)).toBe(RUNS * STEPS.length);
    for (const run of await Promise.all(runIds.map((id) => trigger!.getRun(id)))) expect(run!.executions).toBe(3);

    // A graceful stop of an idle node is clean.
    for (const node of nodes) {
      await node.stop();
      expect(await node.exited).toEqual({ code: 0, signal: null });
    }
  });

  it('when one is SIGKILLed under load, the other finishes every run, repeating only steps in flight at the kill', async () => {
    const [doomed] = await Promise.all(
      ['doomed', 'survivor'].map((name) => startWorkerProcess({ url: redis.url, prefix, name, concurrency: CONCURRENCY })),
    );
    const runIds = await triggerRuns();
    // Kill once the load is well under way: a sixth of all step starts and ends have happened.
    await waitUntil(async () => Number(await redis.client.get(ticksKey(prefix))) >= (RUNS * STEPS.length * 2) / 6, 'the load to get going');
    await doomed.kill();
    expect((await doomed.exited).signal).toBe('SIGKILL');
    // Every tick after this one happened after the doomed node was gone.
    const killTick = await redis.client.incr(ticksKey(prefix));
    await expectAllCompleted(runIds);

    const histories = await readHistories(runIds);
    let repeated = 0;
    let cutShort = 0;
    for (const { runId, starts, intervals, effects } of histories) {
      const finished = new Set(intervals.map((i) => `${i.execution}/${i.key}`));
      const unfinished = starts.filter((s) => !finished.has(`${s.execution}/${s.key}`));
      cutShort += unfinished.length;
      // Only the dead node can have left a step body unfinished, and only by dying in it.
      expect({ runId, unfinished: unfinished.filter((s) => s.worker !== 'doomed' || s.start > killTick) }).toEqual({ runId, unfinished: [] });
      // A body cut short by the kill counts as running until the kill, for the overlap check.
      const spans = [...intervals, ...unfinished.map((s) => ({ ...s, end: killTick }))];
      expect({ runId, overlaps: overlaps(spans) }).toEqual({ runId, overlaps: [] });

      for (const key of STEPS) {
        const attempts = starts.filter((s) => s.key === key);
        expect({ runId, key, effects: effects[key] }).toEqual({ runId, key, effects: attempts.length });
        if (attempts.length === 1) continue;
        repeated++;
        // At most one repeat, and only of a step the dead node was still in when it died: the last step
        // its execution had begun (a later one would mean this step was already recorded as done).
        const [lost, redone] = attempts;
        expect({ runId, key, attempts: attempts.length, lostOn: lost.worker, redoneOn: redone.worker }).toEqual({
          runId, key, attempts: 2, lostOn: 'doomed', redoneOn: 'survivor',
        });
        const laterInLostExecution = starts.filter((s) => s.execution === lost.execution && s.start > lost.start);
        expect({ runId, key, laterInLostExecution }).toEqual({ runId, key, laterInLostExecution: [] });
      }
    }
    // Each of the dead node's slots held at most one step when it died.
    expect(repeated).toBeLessThanOrEqual(CONCURRENCY);
    expect(cutShort).toBeLessThanOrEqual(CONCURRENCY);
  });

  it('share sleeping runs between hosts whose clocks differ: a run woken by the node ahead completes on the node behind', async () => {
    const skewMs = 1000;
    queue = new Queue(QUEUE_NAME, { connection: inspector, prefix });
    // "ahead" keeps true time. Its only slot is held by a checkout run (gated in "charge") while the
    // alarm runs start, so they all start on "behind", whose clock runs a second slow.
    const ahead = await startWorkerProcess({ url: redis.url, prefix, name: 'ahead', concurrency: 1, gatedOn: ['charge'], hangOn: ['after'] });
    const { runId: blocker } = await trigger!.trigger(WORKER_FLOWS.checkout);
    await takeEvents(blocking, prefix, (e) => e.runId === blocker && e.key === 'charge', 1);
    await startWorkerProcess({ url: redis.url, prefix, name: 'behind', concurrency: 1, clockOffsetMs: -skewMs });

    const at = Date.now() + 1000;
    const alarms = await Promise.all([1, 2, 3, 4].map(async () => (await trigger!.trigger(WORKER_FLOWS.alarm, { at })).runId));
    for (const runId of alarms) {
      await waitUntil(async () => (await trigger!.getRun(runId))?.status === 'sleeping', `alarm run ${runId} to go to sleep`);
    }
    // Their alarm has gone off by true time (and by the clock of "ahead"), not yet by the clock of "behind".
    await waitUntil(async () => {
      const jobs = (await queue!.getJobs(['delayed'])).filter((job) => alarms.includes(job.data.runId));
      return jobs.length === alarms.length && jobs.every((job) => job.timestamp + job.delay <= Date.now());
    }, 'every alarm to be due by true time');

    // "ahead" finishes the checkout, and its next fetch wakes every alarm run: it takes one itself
    // (and stays inside its "after" step), the others are left to "behind".
    await redis.client.set(gateKey(prefix, 'charge'), '1');
    expect((await trigger!.waitForRun(blocker)).status).toBe('completed');
    const [held] = await takeEvents(blocking, prefix, (e) => e.key === 'after', 1);
    expect(held.worker).toBe('ahead');
    const others = alarms.filter((runId) => runId !== held.runId);

    // A node that finds a run woken a little early by its own clock must put it back to sleep, not lose it.
    const outcomes = await Promise.all(
      others.map(async (runId) => {
        const run = await trigger!.waitForRun(runId, { timeout: '8s' }).catch(() => trigger!.getRun(runId));
        const jobs = await queue!.getJobs(['delayed', 'waiting', 'prioritized', 'active']);
        return { status: run!.status, jobsLeftToWakeIt: jobs.filter((job) => job.data.runId === runId).length };
      }),
    );
    expect(outcomes).toEqual(others.map(() => ({ status: 'completed', jobsLeftToWakeIt: 0 })));

    // The run held by "ahead" is recovered by "behind" once "ahead" dies.
    await ahead.kill();
    expect((await trigger!.waitForRun(held.runId, { timeout: '15s' })).status).toBe('completed');
    for (const runId of alarms) {
      const counts = await redis.client.mget(effectKey(prefix, runId, 'before'), effectKey(prefix, runId, 'after'));
      expect({ runId, before: Number(counts[0]), after: Number(counts[1]) }).toEqual({ runId, before: 1, after: runId === held.runId ? 2 : 1 });
    }
  });
});
