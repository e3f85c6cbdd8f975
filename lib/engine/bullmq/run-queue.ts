import { randomBytes } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { QUEUE_JOB_STATES, type DueWake, type QueueJobState, type RunQueue, type WakeQueue } from '../ports';
import { explainUnavailable, type RedisClient } from '../redis/connection';

export interface BullmqRunQueueOptions {
  /** Our key prefix: BullMQ keys become `<prefix>:runs:*` (or per partition, see bullPrefix). */
  prefix: string;
  /** Producer connection (fails fast when Redis is down). */
  producer: RedisClient;
  /** Worker connection (maxRetriesPerRequest: null, as BullMQ requires); BullMQ duplicates it for blocking reads. */
  consumer: () => RedisClient;
  /** Runs executed at once by this node, over all partitions. */
  concurrency: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is retried after about this long. */
  lockMs: number;
  partitions: number;
  cluster: boolean;
  /** Queues made by the caller, one per partition, on `producer` (checked by checkGivenQueues); their owner closes them. */
  queues?: Queue[];
  /** Where BullMQ's 'error' events go (a worker's or queue's); without a listener Node would print them raw. */
  onError: (source: string, err: Error) => void;
}

export const QUEUE_NAME = 'runs';

// New runs carry a priority, resumes carry none. BullMQ takes every
// unprioritised job before any prioritised one, so a run that is already under
// way (waking from a sleep or a retry backoff) goes ahead of the backlog of new runs.
const NEW_RUN_PRIORITY = 1;

// Jobs carry no options beyond id and delay. A flow's own errors never reach
// BullMQ (the engine handles them); a job that fails on a Redis outage is not
// retried by BullMQ but by the reconciler, from the run's timer. Keeping the
// job's opts under 64 bytes lets Redis store the job hash in its compact
// encoding: a sleeping run's resume job is most of its Redis memory.

/**
 * A queue's keys must share one Cluster slot, so on a cluster (or with
 * several partitions) each partition's prefix is a hash tag of its own.
 */
export function bullPrefix(prefix: string, partition: number, options: Pick<BullmqRunQueueOptions, 'partitions' | 'cluster'>): string {
  if (options.partitions === 1) return options.cluster ? `{${prefix}}` : prefix;
  return `{${prefix}:p${partition}}`;
}

function newRunJobId(runId: string): string {
  return `t-${runId}`;
}

/** FNV-1a: a stable, cheap spread of run ids over partitions (every node must agree). */
function partitionOf(runId: string, partitions: number): number {
  if (partitions === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) hash = Math.imul(hash ^ runId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % partitions;
}

/** The RunQueue on BullMQ: one queue per partition, each with two lanes (resume before new). */
export class BullmqRunQueue implements RunQueue, WakeQueue {
  private readonly queues: Queue[];
  private readonly workers: Worker[] = [];
  /** Jobs handed to `process` whose outcome BullMQ has not yet recorded (its completed/failed event), over all partitions. */
  private readonly inFlight = new Set<string>();
  private onIdle?: () => void;
  private stopping = false;
  private resumes = 0;
  /** Random per process, so counter-based job ids of different nodes never meet. */
  private readonly node = randomBytes(5).toString('hex');

  constructor(private readonly options: BullmqRunQueueOptions) {
    // Given queues got their error listener when they were handed over (they may fail before this runs).
    this.queues = options.queues ?? Array.from({ length: options.partitions }, (_, i) => {
      const queue = new Queue(QUEUE_NAME, { connection: options.producer, prefix: bullPrefix(options.prefix, i, options) });
      return queue.on('error', (err) => options.onError('BullMQ queue', err));
    });
  }

  async enqueueNew(runId: string, delayMs: number, request?: string): Promise<void> {
    // The job id dedupes a retried trigger while the first job still waits.
    await this.queueOf(runId)
      .add('run', request ? { runId, req: request } : { runId }, { jobId: newRunJobId(runId), priority: NEW_RUN_PRIORITY, delay: delayMs })
      .catch(explainUnavailable);
  }

  async enqueueNewMany(runs: ReadonlyArray<{ runId: string; delayMs: number }>): Promise<void> {
    const byQueue = new Map<Queue, Array<{ name: string; data: { runId: string }; opts: { jobId: string; priority: number; delay: number } }>>();
    for (const { runId, delayMs } of runs) {
      const queue = this.queueOf(runId);
      let jobs = byQueue.get(queue);
      if (!jobs) byQueue.set(queue, (jobs = []));
      jobs.push({ name: 'run', data: { runId }, opts: { jobId: `t-${runId}`, priority: NEW_RUN_PRIORITY, delay: delayMs } });
    }
    await Promise.all([...byQueue].map(([queue, jobs]) => queue.addBulk(jobs))).catch(explainUnavailable);
  }

  async enqueueResume(runId: string, atMs: number, dedupeKey?: string): Promise<void> {
    await this.enqueueResumeJob(runId, atMs, this.resumeJobId(runId, dedupeKey));
  }

  resumeJobId(runId: string, dedupeKey?: string): string {
    // Unique per call unless merging is asked for: a worker whose clock is
    // behind may take a resume early and park the run again for the same
    // wakeAt, and an id derived from wakeAt would then equal the running job's,
    // so BullMQ would drop the add (test/engine/shared-workers). A duplicate
    // resume is harmless: the claim lets one execution in. Short, because the
    // id is stored three times per job (the run id is in the data).
    return dedupeKey ? `r-${runId}-${dedupeKey}` : `r${this.node}${(this.resumes++).toString(36)}`;
  }

  async enqueueResumeJob(runId: string, atMs: number, jobId: string): Promise<void> {
    await this.queueOf(runId).add('resume', { runId }, { jobId, delay: Math.max(0, atMs - Date.now()) }).catch(explainUnavailable);
  }

  async enqueueWakes(wakes: readonly DueWake[]): Promise<void> {
    const byQueue = new Map<Queue, Array<{ name: string; data: { runId: string }; opts: { jobId: string } }>>();
    for (const { runId, seq } of wakes) {
      const queue = this.queueOf(runId);
      let jobs = byQueue.get(queue);
      if (!jobs) byQueue.set(queue, (jobs = []));
      jobs.push({ name: 'resume', data: { runId }, opts: { jobId: this.wakeJobId(runId, seq) } });
    }
    await Promise.all([...byQueue].map(([queue, jobs]) => queue.addBulk(jobs))).catch(explainUnavailable);
  }

  wakeJobId(runId: string, seq: number): string {
    // Derived, not random, so the reconciler can look the job up from the run alone; the park's
    // execution count keeps it apart from the job of the park before, which may still be active.
    return `w${seq}-${runId}`;
  }

  async hasLiveJob(runId: string, jobId = newRunJobId(runId), dueBy = Infinity): Promise<boolean> {
    const queue = this.queueOf(runId);
    const state = await queue.getJobState(jobId).catch(explainUnavailable);
    if (state === 'completed' || state === 'failed' || state === 'unknown') return false;
    if (state !== 'delayed') return true;
    // A job delayed past `dueBy` (say, a sleep's resume while a signal should have woken the run) is not the one awaited.
    const job = await queue.getJob(jobId).catch(explainUnavailable);
    return job !== undefined && job.timestamp + job.delay <= dueBy;
  }

  async jobCounts(): Promise<Record<QueueJobState, number>> {
    const perPartition = await Promise.all(this.queues.map((queue) => queue.getJobCounts(...QUEUE_JOB_STATES))).catch(explainUnavailable);
    const total = Object.fromEntries(QUEUE_JOB_STATES.map((state) => [state, 0])) as Record<QueueJobState, number>;
    for (const counts of perPartition) for (const state of QUEUE_JOB_STATES) total[state] += counts[state] ?? 0;
    return total;
  }

  async startWorker(process: (runId: string, request?: string) => Promise<void>): Promise<void> {
    const perPartition = Math.max(1, Math.ceil(this.options.concurrency / this.options.partitions));
    for (let i = 0; i < this.options.partitions; i++) {
      const worker = new Worker<{ runId: string; req?: string }>(QUEUE_NAME, (job) => {
        this.inFlight.add(job.id!);
        // A fetch already under way when the worker paused still hands over a job: pass its run on
        // to a node that is not stopping (a fresh job), instead of starting an execution to abandon.
        if (this.stopping) return this.enqueueResume(job.data.runId, Date.now());
        return process(job.data.runId, job.data.req);
      }, {
        connection: this.options.consumer(),
        prefix: bullPrefix(this.options.prefix, i, this.options),
        concurrency: perPartition,
        lockDuration: this.options.lockMs,
        stalledInterval: this.options.lockMs,
        // A run's state lives in our store, not in the job: a job that stalled
        // (its worker died) is always safe to run again, however many times.
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 1000 },
        autorun: false,
      });
      worker.on('error', (err) => this.options.onError('BullMQ worker', err));
      worker.on('completed', (job) => this.settled(job.id));
      worker.on('failed', (job) => this.settled(job?.id));
      void worker.run();
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  async stopWorker(): Promise<void> {
    // Not BullMQ's graceful close(): it waits for Redis without bound, and once begun it is the
    // only close a worker gets (a later close(true) returns it). Pausing takes no Redis call.
    this.stopping = true;
    await Promise.all(this.workers.map((worker) => worker.pause(true)));
    // Until BullMQ has recorded each job's end: closing before would leave it active, to be run again once stalled.
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
    await this.forceStop();
  }

  async forceStop(): Promise<void> {
    // Forced: drops the blocking connection and stops BullMQ's lock and stall timers without a
    // Redis round trip. The shared worker connection stays for the engine to close.
    await Promise.all(this.workers.map((worker) => worker.close(true)));
  }

  async close(): Promise<void> {
    if (this.options.queues) return;
    await Promise.all(this.queues.map((queue) => queue.close()));
  }

  private settled(jobId: string | undefined): void {
    if (jobId !== undefined && this.inFlight.delete(jobId) && this.inFlight.size === 0) this.onIdle?.();
  }

  private queueOf(runId: string): Queue {
    return this.queues[partitionOf(runId, this.options.partitions)];
  }
}
