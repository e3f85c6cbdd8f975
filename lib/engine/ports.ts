import type { ErrorInfo, RunStatus, StepKind, StepStatus } from '../common/types';

/** A run as stored: payloads stay encoded strings until someone reads them. */
export interface RunRecord {
  runId: string;
  flowId: string;
  status: RunStatus;
  input?: string;
  output?: string;
  error?: ErrorInfo & { stepKey?: string };
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  wakeAt?: number;
  executions: number;
}

/** A step as stored, one JSON value per step key. */
export interface StepRecord {
  kind: StepKind;
  status: StepStatus;
  attempts: number;
  /** Order of first appearance in the run, so views list steps as the flow ran them. */
  seq: number;
  result?: string;
  errors?: Array<ErrorInfo & { attempt: number; at: number }>;
  wakeAt?: number;
  finishedAt?: number;
  /** When the attempt in flight (status running) began. */
  startedAt?: number;
  /** Which worker node runs the attempt in flight. */
  node?: string;
  /** The signal name a `waiting` step waits for. */
  waitingFor?: string;
}

export type ClaimResult =
  | { kind: 'claimed'; run: RunRecord; steps: Map<string, StepRecord> }
  | { kind: 'missing' }
  | { kind: 'finished'; status: RunStatus }
  | { kind: 'busy'; retryInMs: number };

export type RunOutcome =
  | { status: 'completed'; output?: string }
  | { status: 'failed'; error: ErrorInfo & { stepKey?: string } };

export type StepWrite = readonly [key: string, record: StepRecord];

/**
 * Durable state of runs. Every write made during an execution carries the
 * execution's lease token and is refused (LeaseLostError) once another
 * execution holds the run: that is what keeps two executions from writing
 * over each other.
 */
export interface RunStore {
  /** false when the run id exists already (idempotent trigger). */
  create(run: { runId: string; flowId: string; input?: string; createdAt: number; dueAt: number }): Promise<boolean>;
  claim(runId: string, token: string, leaseMs: number): Promise<ClaimResult>;
  saveSteps(runId: string, token: string, steps: readonly StepWrite[]): Promise<void>;
  /** Extends the lease; throws LeaseLostError when it is gone. */
  touch(runId: string, token: string, leaseMs: number): Promise<void>;
  suspend(runId: string, token: string, wakeAt: number, steps: readonly StepWrite[]): Promise<void>;
  finish(runId: string, token: string, outcome: RunOutcome, steps: readonly StepWrite[]): Promise<void>;
  /** Gives the run back (status queued) so another worker can take it at once. */
  release(runId: string, token: string): Promise<void>;
  get(runId: string): Promise<{ run: RunRecord; steps: Map<string, StepRecord> } | null>;
  /**
   * Runs whose timer is past `now`: each live run has one, set to when a
   * worker must have picked it up (due time, lease end, wake time, plus a
   * grace period). The reconciler re-enqueues those the queue lost.
   */
  overdue(now: number, limit: number): Promise<Array<{ runId: string; status: RunStatus | null; wakeAt?: number; leaseUntil?: number }>>;
  setTimer(runId: string, at: number): Promise<void>;
  clearTimer(runId: string): Promise<void>;
  /** Drops index entries of runs created before `cutoff` whose records have expired; returns how many. */
  sweepIndexes(flowIds: readonly string[], cutoff: number): Promise<number>;
  status(runId: string): Promise<RunStatus | null>;
  /** Newest first over the indexes of `flowIds`. */
  list(query: { flowIds: readonly string[]; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }>;
}

/**
 * The work queue. New runs and resumes share one queue in two lanes: a resume
 * is always taken before a new run, so work already started finishes first.
 */
export interface RunQueue {
  enqueueNew(runId: string, delayMs: number): Promise<void>;
  /** `dedupeKey` makes repeated calls for one wake-up add one job while it waits. */
  enqueueResume(runId: string, atMs: number, dedupeKey?: string): Promise<void>;
  /** Starts consuming; `process` runs one execution of a run. */
  startWorker(process: (runId: string) => Promise<void>): Promise<void>;
  /** Stops taking jobs; resolves once the jobs in hand have ended. */
  stopWorker(): Promise<void>;
  /** Shutdown past its grace period: drops the worker's connections at once, whatever Redis does. */
  forceStop(): Promise<void>;
  /** Closes the producer side (call after stopWorker). */
  close(): Promise<void>;
}
