import type { ErrorInfo, StepKind } from './types';

/** One execution of a run, as `interceptRun` sees it. @public */
export interface RunInterceptInfo {
  readonly flowId: string;
  readonly runId: string;
  /** Which execution of the run this is: 1 for the first pickup, +1 for every resume or takeover. */
  readonly execution: number;
  /** Which attempt of the whole run: 1, then +1 for every `retry(runId)`. */
  readonly attempt: number;
  /** When the run was triggered (ms since the epoch). */
  readonly createdAt: number;
  /** When the run's first execution began (ms since the epoch). */
  readonly startedAt: number;
}

/**
 * How an execution ended, what `next()` of `interceptRun` resolves with.
 * `parked`: the run sleeps (a sleep, a signal wait, a retry backoff) and another
 * execution resumes it; `handed-back`: given back on shutdown for another node;
 * `lost`: another execution took the run over (this one's lease lapsed).
 * @public
 */
export type ExecutionEnd =
  | { status: 'completed' }
  | { status: 'failed'; error: ErrorInfo & { stepKey?: string } }
  | { status: 'cancelled' }
  | { status: 'parked'; wakeAt: number }
  | { status: 'handed-back' }
  | { status: 'lost' };

/** One attempt of a step, as `interceptStep` sees it. Replayed steps are not attempts and are never intercepted. @public */
export interface StepInterceptInfo {
  readonly flowId: string;
  readonly runId: string;
  /** The step key the flow gave. */
  readonly key: string;
  readonly kind: StepKind;
  /** 1 on the first attempt. */
  readonly attempt: number;
}

/**
 * Wraps executions and step attempts, like a Nest interceptor wraps a
 * request: call `next()` once, and return (or await) what it gives.
 * Interceptors compose in the order given, the first one outermost; the
 * engine's own tracing and metrics wrap them all.
 *
 * - `interceptStep` wraps the body of each real attempt of a task, memo,
 *   array or async step. What it resolves with is the step's result; if it
 *   throws, the attempt fails exactly as if the step had thrown (retried,
 *   then the run fails).
 * - `interceptRun` wraps one execution: the replay of the flow from the top,
 *   its new steps, and the write that ends, parks or hands back the run.
 *   It observes; it cannot veto: the engine holds the run's lease and must
 *   conclude it, so an `interceptRun` that throws before calling `next()`,
 *   or never calls it, is logged and the execution runs anyway. To stop a
 *   run, cancel it.
 * @public
 */
export interface GoTickInterceptor {
  interceptRun?(info: RunInterceptInfo, next: () => Promise<ExecutionEnd>): Promise<unknown>;
  interceptStep?(info: StepInterceptInfo, next: () => Promise<unknown>): Promise<unknown>;
}
