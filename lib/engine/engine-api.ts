import { flowIdOf } from '../common/flow-ref';
import type { FlowRef } from '../common/flow-ref';
import type { GoTickApi, RunHandle, TriggerArgs } from '../common/api';
import type {
  CancelOptions,
  CancelResult,
  ListRunsQuery,
  RetryResult,
  RunCounts,
  RunPage,
  RunView,
  ScheduleSpec,
  ScheduleView,
  TriggerItem,
  TriggerManyOptions,
  TriggerOptions,
  TriggerResult,
  WaitForRunOptions,
} from '../common/types';
import type { GoTickEngine } from './engine';

/**
 * GoTickApi answered by an engine this process holds: what TickService and
 * the testing kit's harness share, so their method names and docs cannot
 * drift. A subclass provides the engine (and may answer a method its own way).
 */
export abstract class EngineApi implements GoTickApi {
  protected abstract readonly engine: GoTickEngine;

  /**
   * Starts a run of `flowId` with `input`. `options.runId` makes the call
   * idempotent; `options.delay` starts it later.
   * @throws UnknownFlowError, InvalidRunIdError, NotSerializableError, PayloadTooLargeError, RedisUnavailableError
   */
  trigger<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, ...args: TriggerArgs<TInput>): Promise<TriggerResult<TInput, TOutput>>;
  trigger<TInput = unknown>(flowId: string, input?: TInput, options?: TriggerOptions): Promise<TriggerResult>;
  trigger(flow: string | FlowRef, input?: unknown, options?: TriggerOptions): Promise<TriggerResult> {
    return this.engine.trigger(flowIdOf(flow), input, options);
  }

  /**
   * Starts many runs of one flow in a few round trips (pipelined writes, bulk
   * job adds): one `{ input?, runId?, delay?, timeout? }` per run, answered in
   * order, `options` shared by all items. Idempotent per runId like trigger;
   * every item is checked before anything is written.
   * @throws UnknownFlowError, InvalidRunIdError, InvalidDurationError, NotSerializableError, PayloadTooLargeError, RedisUnavailableError
   */
  triggerMany<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<Array<TriggerResult<TInput, TOutput>>>;
  triggerMany<TInput = unknown>(flowId: string, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<TriggerResult[]>;
  triggerMany(flow: string | FlowRef, items: ReadonlyArray<TriggerItem>, options?: TriggerManyOptions): Promise<TriggerResult[]> {
    return this.engine.triggerMany(flowIdOf(flow), items, options);
  }

  /** The run with every step's state, or null if there is no such run. */
  getRun<TInput = unknown, TOutput = unknown>(runId: string): Promise<RunView<TInput, TOutput> | null> {
    return this.engine.getRun<TInput, TOutput>(runId);
  }

  /** Runs newest first, filtered by flow and status, `limit` per page (default 50). */
  listRuns(query?: ListRunsQuery): Promise<RunPage> {
    return this.engine.listRuns(query);
  }

  /** Resolves when the run has completed, failed or been cancelled; WaitForRunTimeoutError after `timeout` (default 30s). */
  waitForRun<TInput = unknown, TOutput = unknown>(run: RunHandle<TInput, TOutput>, options?: WaitForRunOptions): Promise<RunView<TInput, TOutput>> {
    return this.engine.waitForRun<TInput, TOutput>(run, options);
  }

  /** Ids of the flows this app registered. */
  listFlows(): Promise<string[]> {
    return this.engine.listFlows();
  }

  /** Runs of a flow by status (among its newest 10,000) and in all; UnknownFlowError for a flow this app lacks. */
  countRuns(flowId: string): Promise<RunCounts> {
    return this.engine.countRuns(flowId);
  }

  /**
   * Cancels a run: a queued or sleeping run at once, a running one within
   * about a second on whichever node runs it (its tasks' `signal` aborts).
   * Returns `cancelled`, or the terminal status a finished run already had.
   * Calling it twice is harmless.
   * @throws RunNotFoundError, RedisUnavailableError
   */
  cancel(runId: string, options?: CancelOptions): Promise<CancelResult> {
    return this.engine.cancel(runId, options);
  }

  /**
   * Sends signal `name` (with an optional JSON payload) to a run: it waits in
   * the run's mailbox until a `ctx.waitForSignal(key, name)` takes it, and
   * wakes the run at once if it is waiting for that name.
   * @throws RunNotFoundError, RunFinishedError, SignalMailboxFullError, PayloadTooLargeError, InvalidSignalNameError
   */
  signal(runId: string, name: string, payload?: unknown): Promise<void> {
    return this.engine.signal(runId, name, payload);
  }

  /**
   * Queues a failed or cancelled run again; completed steps are not run again.
   * @throws RunNotFoundError, RunNotRetriableError
   */
  retry(runId: string): Promise<RetryResult> {
    return this.engine.retry(runId);
  }

  /**
   * Creates or replaces schedule `scheduleId`: runs of the flow on a cron
   * (`{ cron: '0 6 * * *', tz: 'Europe/Berlin' }`) or an interval
   * (`{ every: '10m' }`). Each slot starts at most one run, however many nodes
   * run; with `overlap: 'skip'` (default) a slot is skipped while the
   * schedule's previous run is live. The same spec again changes nothing.
   * @throws InvalidScheduleError, UnknownFlowError, NotSerializableError, PayloadTooLargeError, RedisUnavailableError
   */
  schedule<TInput, TOutput>(scheduleId: string, flow: FlowRef<TInput, TOutput>, spec: ScheduleSpec<TInput>): Promise<ScheduleView>;
  schedule(scheduleId: string, flowId: string, spec: ScheduleSpec): Promise<ScheduleView>;
  schedule(scheduleId: string, flow: string | FlowRef, spec: ScheduleSpec): Promise<ScheduleView> {
    return this.engine.schedule(scheduleId, flowIdOf(flow), spec);
  }

  /** Removes a schedule and its pending slot (runs already started go on); false when there was none. */
  unschedule(scheduleId: string): Promise<boolean> {
    return this.engine.unschedule(scheduleId);
  }

  /** Every schedule (from @Flow and from schedule()) with its next slot, last run and skipped count. */
  listSchedules(): Promise<ScheduleView[]> {
    return this.engine.listSchedules();
  }
}
