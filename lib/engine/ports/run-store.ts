// Where runs live: the store every execution writes through, and the channels that tell nodes about runs.
import type { ErrorInfo, RunStatus } from '../../common/types';
import type { CancelReply, ClaimResult, DueWake, OverdueRun, ParentLink, RunEnding, RunOutcome, RunRecord, StepRecord, StepRewind, StepWrite } from './records';

/** The timer pump's side of the store: the wakes set (Redis only; other backends keep their own timers). */
export interface WakeStore {
  /**
   * The timer pump's claim: atomically takes up to `limit` wake-ups due by `now` off the wakes set, each
   * run getting a reconciler timer at `timerAt` in its place (so a claim whose job is never added is not
   * lost). `nextAt`: when the earliest wake-up left is due.
   */
  claimDueWakes(now: number, limit: number, timerAt: number): Promise<{ due: DueWake[]; nextAt?: number }>;
}

/**
 * Durable state of runs. Every write made during an execution carries the
 * execution's lease token and is refused (LeaseLostError) once another
 * execution holds the run: that is what keeps two executions from writing
 * over each other.
 */
export interface RunStore {
  /** false when the run id exists already (idempotent trigger). */
  /** `scheduleId` and `slotAt` name the schedule slot that started the run; `parent`, the run that started it as a child. */
  create(run: { runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number; request?: string; traceparent?: string; scheduleId?: string; slotAt?: number; parent?: ParentLink }): Promise<boolean>;
  /** create() for many runs in one pipelined round trip; one flag per run, in order (a runId repeated in `runs` is created once). */
  createMany(runs: ReadonlyArray<{ runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number; traceparent?: string }>): Promise<boolean[]>;
  /** Cancels a parked run at once, or stores the request of a running one (see CancelReply). */
  cancel(runId: string, reason: string, error: ErrorInfo): Promise<CancelReply>;
  /** `request`: the trigger request id a trigger's job carries (see enqueueNew), so a spare job is turned away. */
  claim(runId: string, token: string, leaseMs: number, request?: string): Promise<ClaimResult>;
  saveSteps(runId: string, token: string, steps: readonly StepWrite[]): Promise<void>;
  /** Extends the lease, writing `markers` (running steps) along; throws LeaseLostError when it is gone. */
  touch(runId: string, token: string, leaseMs: number, markers?: readonly StepWrite[]): Promise<void>;
  /**
   * Parks the run until `wakeAt`. With `resumeJob` (the id of the delayed job the caller adds next to wake it),
   * recording it; without, the run goes to the timer pump's wakes set instead, and no job is owed.
   */
  suspend(runId: string, token: string, wakeAt: number, resumeJob: string | undefined, steps: readonly StepWrite[], now?: number): Promise<void>;
  /** `rewinds` put back the steps whose attempts this ending cut off (written after `steps`). */
  finish(runId: string, token: string, outcome: RunOutcome, steps: readonly StepWrite[], rewinds?: readonly StepRewind[]): Promise<void>;
  /**
   * Gives the run back (status queued) so another worker can take it at once, with the job that will wake it;
   * `rewinds` put back the steps whose attempts the hand-back stopped.
   */
  release(runId: string, token: string, resumeJob: string, rewinds?: readonly StepRewind[]): Promise<void>;
  /**
   * Gives back a run whose flow this node does not have, uncounting its
   * claim, with `resumeJob` (the job the caller adds next) and a fresh timer
   * at `retryAt`; says whether it was the first hand-back and since when the
   * flow has been missing. Throws LeaseLostError.
   */
  handBack(runId: string, token: string, retryAt: number, resumeJob: string): Promise<{ first: boolean; since: number }>;
  /** Drops the unknown-flow mark of a run a node with its flow has claimed. */
  forgetUnknownFlow(runId: string): Promise<void>;
  /** Stores the trace context of the execution holding the lease `token` (no-op otherwise). */
  recordTrace(runId: string, token: string, traceparent: string): Promise<void>;
  get(runId: string): Promise<{ run: RunRecord; steps: Map<string, StepRecord> } | null>;
  /**
   * Runs whose timer is past `now`: each live run has one, set to when a
   * worker must have picked it up (due time, lease end, wake time, plus a
   * grace period). The reconciler re-enqueues those the queue lost.
   */
  overdue(now: number, limit: number): Promise<OverdueRun[]>;
  /** One run's state as overdue() reports it (null when the run is gone). */
  timerState(runId: string): Promise<OverdueRun | null>;
  /** Records the id of the job that will wake the run (no-op when the run is gone). */
  setResumeJob(runId: string, jobId: string): Promise<void>;
  setTimer(runId: string, at: number): Promise<void>;
  clearTimer(runId: string): Promise<void>;
  /** Drops index entries of runs created before `cutoff` whose records have expired; returns how many. */
  sweepIndexes(flowIds: readonly string[], cutoff: number): Promise<number>;
  status(runId: string): Promise<RunStatus | null>;
  /** The flow's runs in its index (`total`) and the statuses of its newest `sample` runs (`counted`: how many were read). */
  counts(flowId: string, sample: number): Promise<{ total: number; statuses: RunStatus[]; counted: number }>;
  /** Status, output and error of a run (null when it is gone): what a parent reads of its child. */
  ending(runId: string): Promise<RunEnding | null>;
  /**
   * The child runs of `parentRunId` (from its `child` steps), newest first; the
   * cursor is a position in that list. Empty when the parent is gone.
   */
  listChildren(parentRunId: string, query: { flowIds?: readonly string[]; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }>;
  /** Newest first over the indexes of `flowIds`. */
  list(query: { flowIds: readonly string[]; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }>;
}

/**
 * Nudges between nodes: "run X has a cancel request", so the node executing
 * it stops at once instead of at its next heartbeat. Best effort by design:
 * the durable request in the run is what counts.
 */
export interface CancelNudges {
  publish(runId: string, reason: string): Promise<void>;
  /** Starts listening; `onNudge` hears every nudge. */
  listen(onNudge: (runId: string, reason: string) => void): Promise<void>;
}

/**
 * Where the end of a run is heard, so waitForRun wakes at once instead of
 * polling. Best effort: a waiter still polls slowly, in case a message is lost.
 */
export interface RunEnds {
  /** Calls `onEnd` when the run's end is announced; resolves (with a function that stops it) once listening. */
  watch(runId: string, onEnd: () => void): Promise<() => void>;
}
