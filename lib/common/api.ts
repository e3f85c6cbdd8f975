import type { CancelOptions, CancelResult, ListRunsQuery, RunPage, RunView, TriggerOptions, TriggerResult, WaitForRunOptions } from './types';

/**
 * What every face of GoTick offers, whether it runs the engine in-process
 * (GoTickEngine, TickService) or calls a remote app over HTTP (TickClient):
 * one list of names, so they cannot drift apart.
 * @public
 */
export interface GoTickApi {
  /** Starts a run; with `options.runId` the call is idempotent (`created: false` the second time). */
  trigger<TInput = unknown>(flowId: string, input?: TInput, options?: TriggerOptions): Promise<TriggerResult>;
  /** The run with every step, or null when there is no such run. */
  getRun<TInput = unknown, TOutput = unknown>(runId: string): Promise<RunView<TInput, TOutput> | null>;
  /** Runs newest first, optionally of one flow and one status, paged by cursor. */
  listRuns(query?: ListRunsQuery): Promise<RunPage>;
  /** Resolves once the run is completed, failed or cancelled; rejects after `timeout` (default 30s). */
  waitForRun<TInput = unknown, TOutput = unknown>(runId: string, options?: WaitForRunOptions): Promise<RunView<TInput, TOutput>>;
  /** Ids of the registered flows, sorted. */
  listFlows(): Promise<string[]>;
  /**
   * Cancels a run: a queued or sleeping run at once, a running one within about
   * a second on whichever node runs it. Idempotent; a finished run keeps (and
   * answers) its terminal status. Unknown run: RunNotFoundError (HTTP 404).
   */
  cancel(runId: string, options?: CancelOptions): Promise<CancelResult>;
}
