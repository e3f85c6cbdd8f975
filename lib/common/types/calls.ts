// The arguments and answers of the API calls (trigger, cancel, retry, list, wait).
import type { Duration } from '../duration';
import type { FlowRef } from '../flow-ref';
import type { RunStatus } from './run-view';

/** What `retry(runId)` answers. @public */
export interface RetryResult {
  runId: string;
  /** `queued`: the run is back in the queue. */
  status: RunStatus;
}

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
