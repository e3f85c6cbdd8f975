// How runs reach a worker: the queue of new runs and resumes.
import type { DueWake } from './records';

/** The timer pump's side of the queue: immediate jobs for claimed wake-ups, with ids the reconciler can derive. */
export interface WakeQueue {
  /** Adds an immediate resume job for each claimed wake-up, named by wakeJobId, in one bulk add per partition. */
  enqueueWakes(wakes: readonly DueWake[]): Promise<void>;
  /** The id of the timer pump's job for a run parked after `seq` executions (mod 1000): the reconciler looks it up. */
  wakeJobId(runId: string, seq: number): string;
}

/** The queue states the gotick_queue_jobs gauge reports (finished jobs are not kept, so not counted). */
export const QUEUE_JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

/**
 * The work queue. New runs and resumes share one queue in two lanes: a resume
 * is always taken before a new run, so work already started finishes first.
 */
export interface RunQueue {
  /** `request` (the trigger's request id) rides in the job and back to the worker, for claim. */
  enqueueNew(runId: string, delayMs: number, request?: string): Promise<void>;
  /** enqueueNew() for many runs, in one bulk add per partition. */
  enqueueNewMany(runs: ReadonlyArray<{ runId: string; delayMs: number }>): Promise<void>;
  /** `dedupeKey` makes repeated calls for one wake-up add one job while it waits. */
  enqueueResume(runId: string, atMs: number, dedupeKey?: string): Promise<void>;
  /**
   * The id enqueueResume would give the job: fresh per call without
   * `dedupeKey`. Lets a caller record the id with the run before adding the
   * job (enqueueResumeJob), so the job can be looked up later (hasLiveJob).
   */
  resumeJobId(runId: string, dedupeKey?: string): string;
  enqueueResumeJob(runId: string, atMs: number, jobId: string): Promise<void>;
  /**
   * Whether the job is still going to run (waiting, active, or delayed until
   * no later than `dueBy`), not done, failed or gone. Without `jobId`: the
   * run's first job, added by trigger.
   */
  hasLiveJob(runId: string, jobId?: string, dueBy?: number): Promise<boolean>;
  /** Jobs in the queue by state, over all partitions (read when metrics are scraped). */
  jobCounts(): Promise<Record<QueueJobState, number>>;
  /** Starts consuming; `process` runs one execution of a run. */
  startWorker(process: (runId: string, request?: string) => Promise<void>): Promise<void>;
  /** Stops taking jobs; resolves once the jobs in hand have ended. */
  stopWorker(): Promise<void>;
  /** Shutdown past its grace period: drops the worker's connections at once, whatever Redis does. */
  forceStop(): Promise<void>;
  /** Closes the producer side (call after stopWorker). */
  close(): Promise<void>;
}
