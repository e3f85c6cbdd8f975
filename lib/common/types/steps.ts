// What a flow passes to its steps and primitives, and what they hand back.
import type { Duration } from '../duration';

/** A class whose instances a memo's result is rebuilt into (class-transformer's plainToInstance). @public */
export type ClassConstructor<T> = new (...args: any[]) => T;

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
