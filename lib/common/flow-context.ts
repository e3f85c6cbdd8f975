import type { Duration } from './duration';
import type { FlowRef } from './flow-ref';
import type { ChildOptions, MemoOptions, ReceivedSignal, StepOptions, TaskContext, WaitForSignalOptions } from './types';

/** The rest of a typed ctx.child call: the input (optional when the flow's input is void) and the options. @public */
export type ChildArgs<TInput> = [TInput] extends [void] ? [input?: TInput, options?: ChildOptions] : [input: TInput, options?: ChildOptions];

/** The rest of a typed ctx.startChild call: the input (optional when the flow's input is void). @public */
export type StartChildArgs<TInput> = [TInput] extends [void] ? [input?: TInput] : [input: TInput];

/** A lazy step made by ctx.async / ctx.asyncArray; ctx.wait starts it. @public */
export interface Future<T> {
  readonly key: string;
  /** @internal runs (or replays) the step, recording the wait it runs in; call ctx.wait instead. */
  readonly start: (waitGroup?: number) => Promise<T>;
}

/** Sets a durable status value; resolves once it is stored. @public */
export type StatusSetter<T> = (value: T) => Promise<void>;

/**
 * What a flow method receives. Every call takes a key that must be unique
 * within the run: the key is how a replay finds the step's recorded result.
 * @public
 */
export interface FlowContext<TInput = unknown> {
  readonly input: TInput;
  readonly runId: string;
  readonly flowId: string;

  /** Runs `fn` once; retried on error until it succeeds or retries run out. */
  task(key: string, fn: (task: TaskContext) => unknown, options?: StepOptions): Promise<void>;

  /** Like task, and its result is stored: every replay gets the same value back. */
  memo<T>(key: string, fn: (task: TaskContext) => T | Promise<T>, options?: MemoOptions<T>): Promise<T>;

  /**
   * Durable state: the stored value (or `initial`, stored on first use) and a
   * setter. The value on replay is the last one set.
   */
  useStatus<T>(key: string, initial: T): Promise<[T, StatusSetter<T>]>;

  /** A durable timer: survives restarts and crashes. */
  sleep(key: string, duration: Duration): Promise<void>;

  /** A durable timer that ends at a fixed time. */
  sleepUntil(key: string, until: Date | number): Promise<void>;

  /**
   * Waits, without holding a worker, for the oldest signal `name` sent to the
   * run (also one sent before the flow got here), or null once `timeout`
   * passed first. Exactly one of the two resolves the wait, and every replay
   * returns the same value.
   */
  waitForSignal<T = unknown>(key: string, name: string, options?: WaitForSignalOptions): Promise<ReceivedSignal<T> | null>;

  /**
   * Starts a child run of another flow, once (its runId is derived from this
   * run's id and `key`: a replay or a crash never starts a second one), parks
   * this run without holding a worker until the child ends, and returns the
   * child's output. A failed, cancelled or timed-out child throws
   * ChildFlowFailedError here, on every replay alike. The child's whole-run
   * timeout (`options.timeout`, else its flow's) is capped by the time this
   * run has left; cancelling this run cancels the child.
   */
  child<TIn, TOut>(key: string, flow: FlowRef<TIn, TOut>, ...args: ChildArgs<TIn>): Promise<TOut>;
  child<TOut = unknown>(key: string, flowId: string, input?: unknown, options?: ChildOptions): Promise<TOut>;

  /**
   * Starts a child run once, like `child`, without waiting for it; resolves
   * to its runId. Cancelling this run still cancels the child while it is unfinished.
   */
  startChild<TIn, TOut>(key: string, flow: FlowRef<TIn, TOut>, ...args: StartChildArgs<TIn>): Promise<string>;
  startChild(key: string, flowId: string, input?: unknown): Promise<string>;

  /** A memo whose result must be an array, for fan-out with asyncArray. */
  array<T>(key: string, fn: (task: TaskContext) => T[] | Promise<T[]>, options?: MemoOptions<T[]>): Promise<T[]>;

  /** A lazy step: nothing runs until it is passed to ctx.wait. */
  async<T>(key: string, fn: (task: TaskContext) => T | Promise<T>, options?: MemoOptions<T>): Future<T>;

  /** Runs futures in parallel, at most `concurrency` at a time; resolves to their values in order. */
  wait<T extends readonly Future<unknown>[]>(
    futures: T,
    options?: { concurrency?: number },
  ): Promise<{ [K in keyof T]: T[K] extends Future<infer V> ? V : never }>;

  /** One future per item, keyed `key:0`, `key:1`, ... */
  asyncArray<I, T>(
    key: string,
    items: readonly I[],
    fn: (task: TaskContext, item: I, index: number) => T | Promise<T>,
    options?: MemoOptions<T>,
  ): Future<T>[];
}
