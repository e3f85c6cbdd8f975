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
  /** Whole-run timeout given at trigger time (ms). */
  timeoutMs?: number;
  /** First start + timeoutMs, fixed by the first claim. */
  deadline?: number;
  /** Set (to the reason, maybe '') once a cancel was requested. */
  cancelRequested?: string;
  /** The schedule whose slot started the run. */
  scheduleId?: string;
  /** That slot's time (ms). */
  slotAt?: number;
  /** How many times the run was retried. */
  retries?: number;
  /** When a node first handed the run back for not having its flow (cleared by retry and by a node that has it). */
  unknownFlowSince?: number;
  /** The concurrency group (JSON [flowId, key]) the run last waited in for a slot. */
  slotGroup?: string;
  /** When the run last joined its concurrency group's line (ms); set only while it waits there (cleared by its next claim). */
  slotWaitAt?: number;
  /** Errors of earlier attempts of the run, oldest first (set by retry). */
  previousErrors?: Array<ErrorInfo & { stepKey?: string; failedAt?: number }>;
  /** W3C traceparent of the span that triggered the run (tracing on). */
  traceparent?: string;
  /** W3C traceparent of the last execution's span (tracing on), for the next execution's link. */
  lastTrace?: string;
  /** The run that started this one as a child, and its step. */
  parentRunId?: string;
  parentStepKey?: string;
  /** The parent waits for this run (ctx.child): its end must wake the parent. */
  wakeParent?: boolean;
}

/** How a child run is tied to the run that started it. */
export interface ParentLink {
  runId: string;
  stepKey: string;
  /** ctx.child (the parent parks until this run ends) rather than ctx.startChild. */
  waits: boolean;
}

/** The end of a run, as a parent waiting for it reads it. */
export interface RunEnding {
  status: RunStatus;
  output?: string;
  error?: ErrorInfo;
}

/** A step as stored, one JSON value per step key. */
export interface StepRecord {
  kind: StepKind;
  status: StepStatus;
  attempts: number;
  /** Order of first appearance in the run, so views list steps as the flow ran them. */
  seq: number;
  result?: string;
  /** `startedAt`: when that attempt began (absent on records written before it was kept). */
  errors?: Array<ErrorInfo & { attempt: number; at: number; startedAt?: number }>;
  wakeAt?: number;
  finishedAt?: number;
  /** When the attempt in flight (status running) began; on a finished step, when its last attempt began (a sleep or signal wait: when the flow reached it). */
  startedAt?: number;
  /** Which worker node runs the attempt in flight. */
  node?: string;
  /** The signal name a `waiting` step waits for. */
  waitingFor?: string;
  /** The ctx.wait the step ran in: 1 for the run's first wait, 2 for the next... (steps outside a wait have none). */
  waitGroup?: number;
  /** The run a `child` step started. */
  childRunId?: string;
}

export type ClaimResult =
  | {
      kind: 'claimed';
      run: RunRecord;
      steps: Map<string, StepRecord>;
      /** The run must end without running the flow: a cancel was requested, or its deadline passed. */
      stop?: 'cancelled' | 'timeout';
      /** Taken from an execution whose lease lapsed while it ran the run (it blocked its event loop, or died). */
      takeover?: boolean;
    }
  | { kind: 'missing' }
  /** `slotGroup`: the concurrency group the run waited in (it may still hold a place there). */
  | { kind: 'finished'; status: RunStatus; slotGroup?: string }
  | { kind: 'busy'; retryInMs: number }
  /** The job of a repeated trigger, for a run another trigger created and that is under way: drop it. */
  | { kind: 'spare' };

export type RunOutcome =
  | { status: 'completed'; output?: string }
  | { status: 'failed' | 'cancelled'; error: ErrorInfo & { stepKey?: string } };

export type CancelReply =
  | { kind: 'missing' }
  /**
   * Was parked (queued or sleeping) and is cancelled now: the caller owes the OnFlowCancel hooks,
   * and the wake-up of `wakeParent`, the parent waiting for this run (ctx.child).
   */
  | { kind: 'cancelled'; flowId: string; input?: string; wakeParent?: string }
  | { kind: 'finished'; status: RunStatus }
  /** Running: the request is stored; the executing node must be nudged. */
  | { kind: 'requested'; reason: string };

export type StepWrite = readonly [key: string, record: StepRecord];

/** Puts a step back as it was before an attempt that was stopped (null: the step had no record, delete it). */
export type StepRewind = readonly [key: string, record: StepRecord | null];

/** A live run past its timer, as the reconciler sees it. */
export interface OverdueRun {
  runId: string;
  status: RunStatus | null;
  wakeAt?: number;
  leaseUntil?: number;
  /** Id of the last resume job recorded for the run (by suspend or the reconciler). */
  resumeJob?: string;
  /** How many executions the run has had: names the timer pump's job for its last park (RunQueue.wakeJobId). */
  executions?: number;
}

/** A sleeping run's wake-up, claimed by the timer pump: it now needs its queue job. */
export interface DueWake {
  runId: string;
  wakeAt: number;
  /** The run's executions (mod 1000) when it parked: tells this wake-up's job from its last park's. */
  seq: number;
}

/** The timer pump's side of the store: the wakes set (Redis only; other backends keep their own timers). */
export interface WakeStore {
  /**
   * The timer pump's claim: atomically takes up to `limit` wake-ups due by `now` off the wakes set, each
   * run getting a reconciler timer at `timerAt` in its place (so a claim whose job is never added is not
   * lost). `nextAt`: when the earliest wake-up left is due.
   */
  claimDueWakes(now: number, limit: number, timerAt: number): Promise<{ due: DueWake[]; nextAt?: number }>;
}

/** The timer pump's side of the queue: immediate jobs for claimed wake-ups, with ids the reconciler can derive. */
export interface WakeQueue {
  /** Adds an immediate resume job for each claimed wake-up, named by wakeJobId, in one bulk add per partition. */
  enqueueWakes(wakes: readonly DueWake[]): Promise<void>;
  /** The id of the timer pump's job for a run parked after `seq` executions (mod 1000): the reconciler looks it up. */
  wakeJobId(runId: string, seq: number): string;
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

/** What the signal script made of a signal. */
export type SendResult =
  | { kind: 'stored'; wake: boolean }
  | { kind: 'missing' }
  | { kind: 'finished'; status: RunStatus }
  | { kind: 'full' };

/** The step records take() writes, whichever way the wait is decided (packed as the store keeps them). */
export interface SignalWaitRecords {
  /** The step completed with the signal: `before` + the stored signal (a JSON string) + `after`. */
  received: { before: string; after: string };
  /** The step completed with null: the timeout passed first. */
  timedOut: string;
  /** The step still waiting. */
  waiting: string;
}

export type TakeResult =
  | { kind: 'received'; signal: string }
  | { kind: 'timed-out' }
  | { kind: 'waiting' };

/**
 * Each run's signal mailbox: FIFO per name, in the run's Cluster slot, kept
 * until a wait takes the signal. Taking is fenced by the execution's lease,
 * like every other write of an execution.
 */
export interface MailboxStore {
  /** Stores an encoded signal unless the run is unknown, finished, or already holds `max` signals. */
  send(runId: string, name: string, signal: string, max: number): Promise<SendResult>;
  /**
   * In one atomic step: takes the oldest signal `name` and records the step
   * completed with it; or, with none and `now >= timeoutAt`, records it
   * completed with null; or records it waiting (and marks the run as waiting
   * for `name`, so send() wakes it). `steps` are the deferred steps of the
   * execution, written along. Throws LeaseLostError when the lease is gone.
   */
  take(
    runId: string,
    token: string,
    wait: { stepKey: string; name: string; now: number; timeoutAt?: number; records: SignalWaitRecords },
    steps: readonly StepWrite[],
  ): Promise<TakeResult>;
  /** Whether a signal of any of `names` is waiting in the mailbox. */
  holdsAny(runId: string, names: readonly string[]): Promise<boolean>;
  /** Starts the retention clock of a finished run's mailbox (0 keeps it). */
  expire(runId: string, retentionMs: number): Promise<void>;
}

export type RetryStoreResult = { kind: 'queued' } | { kind: 'missing' } | { kind: 'not-retriable'; status: RunStatus };

/** Sends a failed or cancelled run back to the queue, in one atomic step. */
export interface RetryStore {
  retry(runId: string, now: number): Promise<RetryStoreResult>;
}

/** What slot-take made of an execution's (or a parked run's) request for a concurrency slot. */
export type SlotTake = 'taken' | 'full' | 'lined-up' | 'reserved';

/** What giving a slot back did to its group (see ConcurrencySlots.free). */
export interface SlotHandOver {
  /** Runs handed a slot now: the caller adds the job that starts each. */
  handed: string[];
  /** Runs still in the waiting line. */
  waiting: number;
  /** Runs handed a slot that have not started yet. */
  handovers: string[];
  /** When the earliest held slot lapses (ms; 0: none held). */
  nextLapse: number;
}

/**
 * Per-flow (per-key) concurrency slots, tied to the lease: an execution holds
 * its slot under its lease token, renews it with the lease, and a dead
 * worker's slot lapses with its lease. Runs over the cap wait in a line per
 * group, holding no job; a freed slot is handed to the head of the line.
 * Each group's keys share one Cluster slot; a registry of groups with waiting
 * runs lets the reconciler find those whose holders died.
 */
export interface ConcurrencySlots {
  /** 'take' mode of slot-take-2 ('taken' | 'full'), or 'join' for a parked run ('lined-up' | 'reserved'). */
  take(groupId: string, token: string, runId: string, limit: number, leaseMs: number, mode: 'take' | 'join', place: number): Promise<SlotTake>;
  /**
   * Parks a claimed run that found its group full (queued, lease cleared, claim
   * uncounted, its group recorded in the run); resolves with its whole-run
   * deadline, if it has one. Throws LeaseLostError, or CancelRequestedError when a cancel came first.
   */
  park(runId: string, token: string, groupId: string): Promise<{ deadline?: number }>;
  /**
   * Once a parked run is in line: it needs no reconciler timer (a freed slot or the group's look starts it),
   * but one at its `deadline` if it has one, to fail there. Not waited for.
   */
  waitTimer(runId: string, deadline: number | undefined): void;
  /**
   * Gives a run that waited in line (and so has no timer) its reconciler timer again, once it
   * holds a slot: should its execution die, the reconciler finds it. Not waited for.
   */
  rearmTimer(runId: string, at: number): void;
  /** Renews the execution's slot; false when it lapsed and is gone. */
  extend(groupId: string, token: string, leaseMs: number): Promise<boolean>;
  /** Gives back `token`'s slot and takes `runId` out of line (either may be ''), then hands free slots over. */
  free(groupId: string, token: string, runId: string, limit: number, leaseMs: number): Promise<SlotHandOver>;
  /** Asks the reconciler to look at the group by `at` (an earlier look already asked for stays). */
  watch(groupId: string, at: number): Promise<void>;
  /** Groups whose look is due by `now`. */
  dueGroups(now: number, limit: number): Promise<string[]>;
  /** Sets when the reconciler looks at the group next. */
  rewatch(groupId: string, at: number): Promise<void>;
  /** Drops the group from the registry. */
  unwatch(groupId: string): Promise<void>;
  /** A run's status (null when it is gone): the reconciler's check on a hand-over that does not start. */
  runStatus(runId: string): Promise<RunStatus | null>;
}

/** When a schedule fires, as the queue keeps it: a cron in an IANA zone, or an interval in ms. */
export type ScheduleTiming = { cron: string; tz?: string } | { everyMs: number };

/** What a schedule's queue entry carries: everything a node needs to fire a slot, even one without the flow. */
export interface ScheduleEntry {
  scheduleId: string;
  flowId: string;
  /** The spec as views show it, without its input (JSON). */
  spec: string;
  /** The encoded input ('' = none). */
  input: string;
  overlap: 'skip' | 'allow';
  /** 'code': declared by a @Flow; 'runtime': made by schedule(). */
  source: 'code' | 'runtime';
}

/** A schedule as the queue keeps it. */
export interface QueuedSchedule {
  entry: ScheduleEntry;
  timing: ScheduleTiming;
  /** When the next slot fires (ms); undefined when none is planned. */
  nextAt?: number;
}

/** One slot of a schedule, handed to the node that fires it. */
export interface ScheduleSlot {
  entry: ScheduleEntry;
  /** The time of the slot the queue's job was planned for (ms). */
  dueAt: number;
  /** When a worker took the job (ms). */
  takenAt: number;
}

/** The schedules' clock: one job factory per schedule (BullMQ job schedulers), fired on one node per slot. */
export interface ScheduleQueue {
  /** Creates or replaces the schedule (its pending slot is replanned). */
  upsert(entry: ScheduleEntry, timing: ScheduleTiming): Promise<void>;
  get(scheduleId: string): Promise<QueuedSchedule | null>;
  list(): Promise<QueuedSchedule[]>;
  /** false when there was no such schedule. */
  remove(scheduleId: string): Promise<boolean>;
  /** Starts taking due slots; `fire` starts (or skips) the slot's run. */
  startWorker(fire: (slot: ScheduleSlot) => Promise<void>): Promise<void>;
  /** Stops taking slots, waiting at most `graceMs` for the ones in hand. */
  stopWorker(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

/** What a schedule did: its latest run, its skipped slots, and which schedules came from code. */
export interface ScheduleStore {
  lastRun(scheduleId: string): Promise<{ runId: string; slotAt: number } | null>;
  /** Records the run of a slot unless a later slot's run is recorded already. */
  recordRun(scheduleId: string, slotAt: number, runId: string): Promise<void>;
  recordSkip(scheduleId: string, slotAt: number): Promise<void>;
  stats(scheduleIds: readonly string[]): Promise<Array<{ lastRun?: { runId: string; slotAt: number }; skipped: number; lastSkippedAt?: number }>>;
  /** Ids of the schedules declared by @Flow decorators (as of the latest bootstrap). */
  codeScheduleIds(): Promise<string[]>;
  markCode(scheduleIds: readonly string[]): Promise<void>;
  /** Drops what is kept about the schedule (its stats and its code mark). */
  forget(scheduleId: string): Promise<void>;
  /** Drops only the code mark: a runtime schedule() took the id over. */
  unmarkCode(scheduleId: string): Promise<void>;
}
