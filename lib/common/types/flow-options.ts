// What @Flow takes (defaults, timeout, concurrency, schedules) and what its hooks receive.
import type { Duration } from '../duration';
import type { ErrorInfo } from './run-view';
import type { StepOptions } from './steps';

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
