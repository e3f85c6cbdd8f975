import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { FlowContext, FlowDefinition } from '../../lib/engine';
import { QUEUE_NAME } from '../../lib/engine/bullmq/run-queue';
import { EngineHarness } from '../support/engine-harness';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

/**
 * "Resumed runs are taken before new ones, so work already started finishes
 * first." With one worker slot and a backlog of new runs waiting, a run whose
 * sleep (or retry backoff) ends must not queue behind that backlog.
 *
 * Determinism: the waking run holds the only slot until the whole backlog is
 * queued, so the slot passes straight from it to the first backlog run, which
 * then holds it in turn until the waking run's resume job is due in BullMQ.
 * The next pick is then between that resume and the rest of the backlog, and
 * nothing depends on how fast the machine is.
 */
describe('a run waking up goes ahead of the backlog of new runs', () => {
  let redis: TestRedis;
  let harness: EngineHarness;
  let inspector: Redis;
  let queue: Queue | undefined;
  let prefix: string;
  let testNo = 0;
  /** Step starts in the order the worker began them, e.g. "resumed:after" or "backlog-2:work". */
  let started: string[];
  let gates: Array<{ open: () => void; opened: Promise<void> }>;

  beforeAll(async () => {
    redis = await startRedis();
    harness = new EngineHarness(redis.url);
    inspector = redis.client.duplicate({ maxRetriesPerRequest: null });
  });
  beforeEach(() => {
    prefix = `prio${process.pid}x${++testNo}`;
    queue = new Queue(QUEUE_NAME, { connection: inspector, prefix });
    started = [];
    gates = [0, 1].map(() => {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      return { open, opened };
    });
  });
  afterEach(async () => {
    // A failed test must not leave a held run blocking the engine's shutdown.
    for (const gate of gates) gate.open();
    await harness.closeAll();
    await queue?.close();
  });
  afterAll(async () => {
    inspector?.disconnect();
    await redis?.stop();
  });

  const backlog: FlowDefinition = {
    id: 'backlog',
    handler: async (ctx: FlowContext<{ name: string; holdsTheSlot: boolean }>) => {
      await ctx.task('work', async () => {
        started.push(`${ctx.input.name}:work`);
        if (ctx.input.holdsTheSlot) await gates[1].opened;
      });
    },
  };

  /** Resolves once the resume job of `runId` is due: BullMQ hands it out on its next fetch. */
  const resumeJobDue = (runId: string) =>
    waitUntil(async () => {
      const jobs = await queue!.getJobs(['delayed', 'waiting', 'prioritized']);
      const job = jobs.find((j) => j.name === 'resume' && j.data.runId === runId);
      if (!job) return false;
      return (await job.isDelayed()) ? job.timestamp + job.delay <= Date.now() : true;
    }, `the resume job of run ${runId} to be due`);

  /** Queues the backlog while the first run holds the slot; the first backlog run will hold it next. */
  const queueBacklog = async (engine: Awaited<ReturnType<EngineHarness['start']>>, size: number) => {
    const ids: string[] = [];
    for (let i = 0; i < size; i++) {
      ids.push((await engine.trigger('backlog', { name: `backlog-${i}`, holdsTheSlot: i === 0 })).runId);
    }
    return ids;
  };

  it('after a sleep', async () => {
    const engine = await harness.start(
      [
        backlog,
        {
          id: 'sleeper',
          handler: async (ctx: FlowContext) => {
            await ctx.task('before', async () => {
              started.push('resumed:before');
              await gates[0].opened;
            });
            await ctx.sleep('nap', 300);
            await ctx.task('after', () => void started.push('resumed:after'));
          },
        },
      ],
      { prefix, worker: { concurrency: 1 } },
    );
    const { runId } = await engine.trigger('sleeper');
    await waitUntil(() => started.includes('resumed:before'), 'the sleeper to take the slot');
    const backlogIds = await queueBacklog(engine, 6);
    gates[0].open();
    await waitUntil(() => started.includes('backlog-0:work'), 'the first backlog run to take the slot');
    expect((await engine.getRun(runId))!.status).toBe('sleeping');
    // The sleeper wakes while every backlog run but the first is still queued.
    await resumeJobDue(runId);
    for (const id of backlogIds.slice(1)) expect((await engine.getRun(id))!.status).toBe('queued');
    gates[1].open();

    for (const id of [runId, ...backlogIds]) expect((await engine.waitForRun(id, { timeout: '10s' })).status).toBe('completed');
    expect(started).toEqual([
      'resumed:before',
      'backlog-0:work',
      'resumed:after',
      'backlog-1:work',
      'backlog-2:work',
      'backlog-3:work',
      'backlog-4:work',
      'backlog-5:work',
    ]);
  });

  it('after a retry backoff', async () => {
    const engine = await harness.start(
      [
        backlog,
        {
          id: 'flaky',
          handler: async (ctx: FlowContext) => {
            await ctx.task('charge', async (task) => {
              started.push(`flaky:charge#${task.attempt}`);
              if (task.attempt > 1) return;
              await gates[0].opened;
              throw new Error('gateway timeout');
            }, { retries: 1, backoff: 300 });
          },
        },
      ],
      { prefix, worker: { concurrency: 1 } },
    );
    const { runId } = await engine.trigger('flaky');
    await waitUntil(() => started.includes('flaky:charge#1'), 'the flaky run to take the slot');
    const backlogIds = await queueBacklog(engine, 6);
    gates[0].open();
    await waitUntil(() => started.includes('backlog-0:work'), 'the first backlog run to take the slot');
    const waiting = (await engine.getRun(runId))!;
    expect(waiting.status).toBe('sleeping');
    expect(waiting.steps[0]).toMatchObject({ key: 'charge', status: 'retrying', attempts: 1 });
    await resumeJobDue(runId);
    for (const id of backlogIds.slice(1)) expect((await engine.getRun(id))!.status).toBe('queued');
    gates[1].open();

    for (const id of [runId, ...backlogIds]) expect((await engine.waitForRun(id, { timeout: '10s' })).status).toBe('completed');
    expect(started).toEqual([
      'flaky:charge#1',
      'backlog-0:work',
      'flaky:charge#2',
      'backlog-1:work',
      'backlog-2:work',
      'backlog-3:work',
      'backlog-4:work',
      'backlog-5:work',
    ]);
  });
});
