import { Queue, Worker, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RunQueue } from '../ports';

export interface BullmqRunQueueOptions {
  /** Our key prefix: BullMQ keys become `<prefix>:runs:*`. */
  prefix: string;
  /** Producer connection (fails fast when Redis is down). */
  producer: Redis;
  /** Worker connection (maxRetriesPerRequest: null, as BullMQ requires); BullMQ duplicates it for blocking reads. */
  consumer: () => Redis;
  concurrency: number;
  /** How long a job's lock lasts without renewal: a dead worker's job is retried after about this long. */
  lockMs: number;
}

export const QUEUE_NAME = 'runs';

// New runs carry a priority, resumes carry none. BullMQ takes every
// unprioritised job before any prioritised one, so a run that is already under
// way (waking from a sleep or a retry backoff) goes ahead of the backlog of new runs.
const NEW_RUN_PRIORITY = 1;

const BASE_JOB: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: { count: 1000 },
  // Job-level retries only cover infrastructure errors (Redis blips) while
  // executing; a flow's own errors are handled by the engine and never reach BullMQ.
  attempts: 20,
  backoff: { type: 'exponential', delay: 500 },
};

/** The RunQueue on one BullMQ queue with two lanes (resume before new). */
export class BullmqRunQueue implements RunQueue {
  private readonly queue: Queue;
  private worker?: Worker;

  constructor(private readonly options: BullmqRunQueueOptions) {
    this.queue = new Queue(QUEUE_NAME, { connection: options.producer, prefix: options.prefix });
  }

  async enqueueNew(runId: string, delayMs: number): Promise<void> {
    // The job id dedupes a retried trigger while the first job still waits.
    await this.queue.add('run', { runId }, { ...BASE_JOB, jobId: `t-${runId}`, priority: NEW_RUN_PRIORITY, delay: delayMs });
  }

  async enqueueResume(runId: string, atMs: number): Promise<void> {
    await this.queue.add(
      'resume',
      { runId },
      { ...BASE_JOB, jobId: `r-${runId}-${atMs}`, delay: Math.max(0, atMs - Date.now()) },
    );
  }

  async startWorker(process: (runId: string) => Promise<void>): Promise<void> {
    this.worker = new Worker<{ runId: string }>(QUEUE_NAME, (job) => process(job.data.runId), {
      connection: this.options.consumer(),
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      lockDuration: this.options.lockMs,
      stalledInterval: this.options.lockMs,
      // A run's state lives in our store, not in the job: a job that stalled
      // (its worker died) is always safe to run again, however many times.
      maxStalledCount: Number.MAX_SAFE_INTEGER,
      autorun: false,
    });
    // Errors here are connection hiccups BullMQ recovers from; without a listener Node would print them raw.
    this.worker.on('error', () => undefined);
    void this.worker.run();
    await this.worker.waitUntilReady();
  }

  async stopWorker(): Promise<void> {
    await this.worker?.close();
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
