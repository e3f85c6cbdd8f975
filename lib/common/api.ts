import type { FlowRef } from './flow-ref';
import type { CancelOptions, CancelResult, ListRunsQuery, RetryResult, RunCounts, RunPage, RunView, ScheduleSpec, ScheduleView, TriggerItem, TriggerManyOptions, TriggerOptions, TriggerResult, WaitForRunOptions } from './types';

/**
 * The rest of a typed trigger call: the input (optional when the flow's input
 * type is void) and the options.
 * @public
 */
export type TriggerArgs<TInput> = [TInput] extends [void]
  ? [input?: TInput, options?: TriggerOptions]
  : [input: TInput, options?: TriggerOptions];

/** A run, named by its id or by what trigger answered (which carries the flow's types). @public */
export type RunHandle<TInput = unknown, TOutput = unknown> = string | TriggerResult<TInput, TOutput>;

/** The run id of a RunHandle. */
export function runIdOf(run: RunHandle<any, any>): string {
  return typeof run === 'string' ? run : run?.runId;
}

/**
 * What every face of GoTick offers, whether it runs the engine in-process
 * (GoTickEngine, TickService) or calls a remote app over HTTP (TickClient):
 * one list of names, so they cannot drift apart.
 * @public
 */
export interface GoTickApi {
  /** Starts a run; with `options.runId` the call is idempotent (`created: false` the second time). */
  trigger<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, ...args: TriggerArgs<TInput>): Promise<TriggerResult<TInput, TOutput>>;
  trigger<TInput = unknown>(flowId: string, input?: TInput, options?: TriggerOptions): Promise<TriggerResult>;
  /**
   * Starts many runs of one flow, answered in order: one `{ input?, runId?, delay?, timeout? }`
   * per run, `options` shared by all. Idempotent per runId like trigger. Over HTTP at most
   * 1,000 items per call (413 beyond).
   */
  triggerMany<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<Array<TriggerResult<TInput, TOutput>>>;
  triggerMany<TInput = unknown>(flowId: string, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<TriggerResult[]>;
  /** The run with every step, or null when there is no such run. */
  getRun<TInput = unknown, TOutput = unknown>(runId: string): Promise<RunView<TInput, TOutput> | null>;
  /** Runs newest first, optionally of one flow and one status, paged by cursor. */
  listRuns(query?: ListRunsQuery): Promise<RunPage>;
  /** A flow's runs by status (read from its newest 10,000 runs) and how many it has in all. Unknown flow: UnknownFlowError. */
  countRuns(flowId: string): Promise<RunCounts>;
  /** Resolves once the run is completed, failed or cancelled; rejects after `timeout` (default 30s). */
  waitForRun<TInput = unknown, TOutput = unknown>(run: RunHandle<TInput, TOutput>, options?: WaitForRunOptions): Promise<RunView<TInput, TOutput>>;
  /** Ids of the registered flows, sorted. */
  listFlows(): Promise<string[]>;
  /**
   * Cancels a run: a queued or sleeping run at once, a running one within about
   * a second on whichever node runs it. Idempotent; a finished run keeps (and
   * answers) its terminal status. Unknown run: RunNotFoundError (HTTP 404).
   */
  cancel(runId: string, options?: CancelOptions): Promise<CancelResult>;
  /**
   * Puts a signal in the run's mailbox (FIFO per name, kept until a
   * `ctx.waitForSignal` takes it) and wakes the run if it waits for `name`.
   * @throws RunNotFoundError, RunFinishedError, SignalMailboxFullError, PayloadTooLargeError, InvalidSignalNameError
   */
  signal(runId: string, name: string, payload?: unknown): Promise<void>;
  /**
   * Queues a failed or cancelled run again: completed steps keep their
   * results, the failed step starts over with fresh attempts.
   * @throws RunNotFoundError, RunNotRetriableError
   */
  retry(runId: string): Promise<RetryResult>;
  /**
   * Creates or replaces schedule `scheduleId`: runs of a flow on a cron (in an
   * IANA zone) or an interval; each slot starts at most one run whatever the
   * number of nodes. The same spec again changes nothing.
   * @throws InvalidScheduleError (naming the bad cron, zone or interval), UnknownFlowError
   */
  schedule<TInput, TOutput>(scheduleId: string, flow: FlowRef<TInput, TOutput>, spec: ScheduleSpec<TInput>): Promise<ScheduleView>;
  schedule(scheduleId: string, flowId: string, spec: ScheduleSpec): Promise<ScheduleView>;
  /** Removes a schedule and its pending slot (runs already started go on); false when there was none. */
  unschedule(scheduleId: string): Promise<boolean>;
  /** Every schedule, by id: its spec, next slot, last run and skipped slots. */
  listSchedules(): Promise<ScheduleView[]>;
}
