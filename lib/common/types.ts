import type { Duration } from './duration';
import type { FlowRef } from './flow-ref';

/** A class whose instances a memo's result is rebuilt into (class-transformer's plainToInstance). @public */
export type ClassConstructor<T> = new (...args: any[]) => T;

/** @public */
export type RunStatus = 'queued' | 'running' | 'sleeping' | 'completed' | 'failed' | 'cancelled';
/** @public */
export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'sleeping', 'completed', 'failed', 'cancelled'];

/** @public */
export type StepKind = 'task' | 'memo' | 'status' | 'sleep' | 'array' | 'async' | 'signal' | 'child';
/**
 * `running` = an attempt in flight; `retrying` = failed, waiting for its backoff; `sleeping` = a timer not
 * yet due; `waiting` = waiting for a signal (see `waitingFor`).
 * @public
 */
export type StepStatus = 'completed' | 'failed' | 'retrying' | 'sleeping' | 'running' | 'waiting';

/** How long to wait before a retry: a fixed Duration, or exponential growth. @public */
export type Backoff = Duration | { type: 'fixed' | 'exponential'; delay: Duration; maxDelay?: Duration };

/** Options for task-like steps. @public */
export interface StepOptions {
  /** Retries after the first attempt (default: module option `defaults.retries`). */
  retries?: number;
  /** Wait between attempts (default: module option `defaults.backoff`). */
  backoff?: Backoff;
  /** Abort an attempt that runs longer than this; it counts as a failed attempt. */
  timeout?: Duration;
}

/** Options of ctx.memo / ctx.array: `type` rebuilds class instances on replay. @public */
export interface MemoOptions<T> extends StepOptions {
  type?: ClassConstructor<T extends Array<infer E> ? E : T>;
}

/** What a task function receives. @public */
export interface TaskContext {
  /** 1 on the first attempt. */
  attempt: number;
  runId: string;
  flowId: string;
  key: string;
  /**
   * Aborted when the step times out, the execution loses its lease, the run
   * is cancelled (`reason`: RunCancelledError) or passes its whole-run
   * timeout (`reason`: FlowTimeoutError). Pass it on to fetch and friends.
   */
  signal: AbortSignal;
}

/**
 * An error as stored and shown: name and message, and the failing attempt's
 * stack where there was one (trimmed to 30 lines, node internals left out).
 * The stack is kept on a run's error and on a step's latest error only; HTTP
 * error responses never carry one.
 * @public
 */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

/** One failed attempt of a step. @public */
export interface StepErrorView extends ErrorInfo {
  attempt: number;
  /** When the attempt failed. */
  at: string;
  /** When the attempt began (with `at`: its bar on a timeline; the gap to the next attempt is the backoff). */
  startedAt?: string;
}

/** One step of a run, as getRun shows it. @public */
export interface StepView {
  key: string;
  kind: StepKind;
  status: StepStatus;
  attempts: number;
  result?: unknown;
  errors?: StepErrorView[];
  /** When a sleeping step or a retry backoff is due (for a signal wait: its timeout). */
  wakeAt?: string;
  finishedAt?: string;
  /**
   * When the attempt in flight began (status running); on a finished step,
   * when its last attempt began; on a sleep or signal wait, when the flow
   * reached it. With `finishedAt`: the step's bar on a timeline.
   */
  startedAt?: string;
  /** The worker node running the attempt in flight. */
  node?: string;
  /** The signal name a waiting step waits for. */
  waitingFor?: string;
  /**
   * The `ctx.wait` the step ran in, counted from 1 in the order the flow
   * reached them: steps with one waitGroup ran side by side (fan-out), and
   * the flow went on once all had ended (fan-in). Absent outside a wait, and
   * on a step of a wait while its attempt is in flight.
   */
  waitGroup?: number;
  /** The run a `child` step started (ctx.child, ctx.startChild). */
  childRunId?: string;
}

/** A run as TickService.getRun and GET /runs/:runId show it. @public */
export interface RunView<TInput = unknown, TOutput = unknown> {
  runId: string;
  flowId: string;
  status: RunStatus;
  input?: TInput;
  output?: TOutput;
  error?: ErrorInfo & { stepKey?: string };
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** When a sleeping run wakes up next. */
  wakeAt?: string;
  /** How many times a worker picked the run up (first run, resumes, crash recovery). */
  executions: number;
  /** The run that started this one with ctx.child / ctx.startChild. */
  parentRunId?: string;
  /** The parent's step that started this run. */
  parentStepKey?: string;
  /** How many times `retry(runId)` sent the run back to the queue. */
  retries?: number;
  /** The schedule that started the run (see `schedule`), when one did. */
  scheduleId?: string;
  /** The schedule slot the run stands for (ISO time): the time the cron or interval named, not when the run started. */
  slotAt?: string;
  /** The errors of the attempts before the last retry, oldest first (at most 10). */
  previousErrors?: PreviousRunError[];
  /**
   * Why a `queued` run has not started: its flow's concurrency cap is full and
   * the run waits in line for a slot. Absent on every other run: one no worker
   * has picked up yet, and one that holds its slot (running), sleeps or has
   * ended. A run just handed a freed slot keeps it until its execution starts
   * (the hand-over's job starts it at once). In run lists too.
   */
  waitingForSlot?: SlotWait;
  steps: StepView[];
}

/** A run's place in a concurrency line: see {@link RunView.waitingForSlot}. @public */
export interface SlotWait {
  /**
   * The concurrency key the run waits on: what the flow's `concurrency.key`
   * returned for its input (e.g. `'customer-42'`). `''` when the cap has no
   * `key`: one line for the whole flow.
   */
  key: string;
  /**
   * When the run joined the line (ISO time).
   */
  since: string;
}

/** The error a run had before `retry(runId)` cleared it. @public */
export interface PreviousRunError extends ErrorInfo {
  stepKey?: string;
  /** When that attempt of the run finished (ISO time). */
  failedAt?: string;
}

/** A signal as `ctx.waitForSignal` returns it: the same value on every replay. @public */
export interface ReceivedSignal<T = unknown> {
  name: string;
  payload: T;
  /** When `signal(runId, name, payload)` stored it. */
  sentAt: Date;
}

/** Options of `ctx.waitForSignal`. @public */
export interface WaitForSignalOptions {
  /** Resolve with null when no signal came within this long (measured from the first time the flow reached the wait). */
  timeout?: Duration;
}

/** Options of `ctx.child`. @public */
export interface ChildOptions {
  /**
   * The child's whole-run timeout (over its flow's own). Either way it is
   * capped by the time the parent has left before its own timeout.
   */
  timeout?: Duration;
}

/** What `retry(runId)` answers. @public */
export interface RetryResult {
  runId: string;
  /** `queued`: the run is back in the queue. */
  status: RunStatus;
}

/** A page of runs, newest first; pass `nextCursor` back to read on. @public */
export interface RunPage {
  runs: RunSummary[];
  nextCursor?: string;
}

/** A run without its steps, for lists. @public */
export type RunSummary = Omit<RunView, 'steps' | 'input' | 'output'>;

/** @public */
export interface TriggerOptions {
  /** Start the run later: milliseconds or '10s', '5m', ... */
  delay?: Duration;
  /** Your own id: triggering twice with one runId starts one run (idempotent). */
  runId?: string;
  /**
   * Whole-run timeout, over the flow's own (`@Flow(id, { timeout })`): measured
   * from the run's first start; past it the run fails with FlowTimeoutError.
   */
  timeout?: Duration;
}

/**
 * One run of a triggerMany call: its input and, optionally, its own runId
 * (idempotency key), delay and timeout. An object rather than a bare input,
 * so an input that happens to have a `runId` field is never taken for options.
 * @public
 */
export interface TriggerItem<TInput = unknown> extends TriggerOptions {
  input?: TInput;
}

/** Options shared by every item of a triggerMany call (an item's own win). @public */
export type TriggerManyOptions = Pick<TriggerOptions, 'delay' | 'timeout'>;

/** @public */
export interface CancelOptions {
  /** Why: stored as the run's error message (`RunCancelledError`), passed to OnFlowCancel hooks. */
  reason?: string;
}

/** @public */
export interface CancelResult {
  runId: string;
  /** `cancelled`, or the terminal status the run already had (then nothing changed). */
  status: RunStatus;
}

/**
 * What a hook (OnFlowSuccess, OnFlowFail, OnFlowError, OnFlowCancel) receives:
 * the run, read-only. Step methods are not available: calling one throws
 * StepInHookError, since a hook runs outside the run's execution.
 * @public
 */
export interface FlowHookContext<TInput = unknown> {
  readonly input: TInput;
  readonly runId: string;
  readonly flowId: string;
}

/**
 * What trigger answers. From a typed trigger it also carries (at compile time
 * only) the flow's types, so `waitForRun(result)` returns a typed RunView.
 * @public
 */
export interface TriggerResult<TInput = unknown, TOutput = unknown> {
  runId: string;
  /** false when a run with this runId already existed (nothing new started). */
  created: boolean;
  /** Never set: it only carries the flow's types. */
  readonly __flow?: FlowRef<TInput, TOutput>;
}

/**
 * Runs of one flow by status, as countRuns answers. Statuses are read from
 * the newest `counted` runs (at most 10,000), so a flow with more runs shows
 * the recent ones; `total` counts them all.
 * @public
 */
export interface RunCounts {
  flowId: string;
  /** Every run the flow's index holds (runs past their retention count until the index sweeper drops them). */
  total: number;
  /** How many of the newest runs `byStatus` was read from. */
  counted: number;
  /** Runs among the newest `counted` in each status (every status is present, 0 when none). */
  byStatus: Record<RunStatus, number>;
}

/** @public */
export interface ListRunsQuery {
  flowId?: string;
  /** Only the child runs this run started (ctx.child, ctx.startChild), newest first. */
  parentRunId?: string;
  status?: RunStatus;
  /** 1-200, default 50. */
  limit?: number;
  cursor?: string;
}

/** @public */
export interface WaitForRunOptions {
  /** Give up after this long (default 30s) with WaitForRunTimeoutError. */
  timeout?: Duration;
}

/** Why a run failed, or why one attempt of a step failed, as hooks receive it. @public */
export interface FlowFailure {
  error: ErrorInfo;
  /** The step that failed, when a step did. */
  stepKey?: string;
  /** The attempt that failed (OnFlowError), or the attempts spent (OnFlowFail). */
  attempt?: number;
}

/** Per-flow options given to @Flow. @public */
export interface FlowOptions<TInput = unknown> {
  /** Step defaults for this flow, over the module's `defaults`. */
  defaults?: StepOptions;
  /**
   * Whole-run timeout, from the run's first start (sleeps included): past it
   * running tasks are aborted, the run fails with FlowTimeoutError and
   * `@OnFlowFail` hooks are called. `trigger(..., { timeout })` overrides it.
   */
  timeout?: Duration;
  /**
   * At most this many runs of the flow execute at once over all nodes
   * (`concurrency: 5`), or at most `limit` per key (`{ limit: 1, key: (input) => input.customerId }`).
   * Runs over the cap wait queued, without polling, and start when a slot frees.
   * A sleeping or signal-waiting run holds no slot.
   */
  concurrency?: number | ConcurrencyOptions<TInput>;
  /**
   * Start runs of this flow on a clock: a cron expression ('0 6 * * *'), a
   * spec, or several. Upserted at bootstrap; a schedule removed from code is
   * removed from Redis at the next bootstrap. See {@link FlowSchedule}.
   */
  schedule?: FlowSchedule<TInput> | Array<FlowSchedule<TInput>>;
}

/** A flow's concurrency cap, per key when `key` is given. @public */
export interface ConcurrencyOptions<TInput = any> {
  /** Runs of one key (or of the flow, without `key`) that execute at once: an integer from 1. */
  limit: number;
  /**
   * The run's key, from its input (e.g. a customer id): 1-200 characters. Called
   * on the worker at every execution, so it must be a pure function of the input.
   * A throw or a bad value fails the run with ConcurrencyKeyError.
   */
  key?(input: TInput): string;
}

/**
 * What a schedule does while its previous run is still live (queued, running
 * or sleeping): `'skip'` (default) skips the slot and counts it; `'allow'`
 * starts the slot's run anyway.
 * @public
 */
export type ScheduleOverlap = 'skip' | 'allow';

/**
 * When a schedule fires and with what input. `cron`: a cron expression (5
 * fields, or 6 with seconds first) read in the IANA time zone `tz` (default
 * UTC), so '0 6 * * *' with tz 'Europe/Berlin' stays at 06:00 local time
 * across DST. `every`: a fixed interval of at least one second, on multiples
 * of it since the Unix epoch (UTC): '1h' fires on the hour.
 * @public
 */
export type ScheduleSpec<TInput = unknown> =
  | { cron: string; tz?: string; input?: TInput; overlap?: ScheduleOverlap }
  | { every: Duration; input?: TInput; overlap?: ScheduleOverlap };

/**
 * A schedule given in `@Flow(id, { schedule })`: a cron string, or a spec.
 * Its id is the flow id (for the n-th of several: `<flowId>#<n>`) unless it
 * names its own `id`; give ids to a list you may reorder.
 * @public
 */
export type FlowSchedule<TInput = unknown> = string | (ScheduleSpec<TInput> & { id?: string });

/** A schedule as `listSchedules` shows it. @public */
export interface ScheduleView {
  scheduleId: string;
  flowId: string;
  spec: ScheduleSpec;
  /** 'code' for a schedule from `@Flow(id, { schedule })`, 'runtime' for one made by `schedule()`. */
  source: 'code' | 'runtime';
  /** When the next slot fires (ISO time); absent when the schedule has none left. */
  nextAt?: string;
  /** The run of the latest slot that started one. */
  lastRun?: { runId: string; slotAt: string };
  /** Slots skipped because the previous run was still live (overlap 'skip'). */
  skipped: number;
  /** When the latest skipped slot was due (ISO time). */
  lastSkippedAt?: string;
}
