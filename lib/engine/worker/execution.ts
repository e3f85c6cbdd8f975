import { backoffMs } from './backoff';
import { decode, encode } from '../codec';
import { toMs, type Duration } from '../../common/duration';
import { errorInfo, withoutStack } from '../error-info';
import {
  DuplicateStepKeyError,
  InvalidStepError,
  LeaseExpiredError,
  NonRetriableError,
  PayloadTooLargeError,
  RunCancelledError,
  StepFailedError,
} from '../../common/errors';
import type { FlowContext, Future, StatusSetter } from '../../common/flow-context';
import { CancelRequestedError, LeaseLostError } from '../errors';
import type { RunRecord, StepRecord, StepRewind } from '../ports';
import { isHardStop, mergeInterrupts, type Interrupt } from './interrupt';
import type { Lease } from './lease';
import type { Backoff, ChildOptions, FlowFailure, MemoOptions, ReceivedSignal, StepKind, TaskContext, WaitForSignalOptions } from '../../common/types';
import { waitForSignal, type SignalWaitHost } from './primitives/signals';
import { runChild, type ChildHost, type ChildRuns } from './primitives/child';
import type { FlowRef } from '../../common/flow-ref';
import { isValidConcurrency, runInLanes, type WaitResults } from './primitives/wait';
import { sleepFor, sleepUntil } from './primitives/sleep';
import { useStatus, type StatusHost } from './primitives/status';
import { stepKeyProblem } from './step-key';
import { callWithTimeout } from './timed-call';
import { AttemptsInFlight } from './attempts-in-flight';
import type { StepChain } from '../observe/interceptor-chain';
import { systemClock, type Clock } from '../clock';

export interface ExecutionSettings {
  lease: Lease;
  /** The lease's length, named in the error of an attempt that outlived it. */
  leaseMs: number;
  /** This process, as running-step records name it. */
  node: string;
  /**
   * The run was taken over from an execution whose lease lapsed mid-run: it
   * may have blocked its event loop in a step, and so may this one. Every
   * attempt is then marked running in Redis before its body starts (one
   * command, not awaited), so a loss is counted even when no heartbeat fires.
   */
  eagerMarkers?: boolean;
  retries: number;
  backoff: Backoff;
  /** Timeout of an attempt whose step sets none (defaults.timeout of the flow or the engine). */
  timeout?: Duration;
  maxPayloadBytes: number;
  /** Where time is read: the system clock, or a test's virtual one. Default: the system clock. */
  clock?: Clock;
  /** Called after every failed step attempt (the OnFlowError hook). */
  onStepError: (failure: FlowFailure) => Promise<void>;
  /** Called at most once per execution, for an attempt that runs with no timeout at all. */
  onUntimedAttempt?: (stepKey: string) => void;
  /** Starts child runs and reads their endings (ctx.child, ctx.startChild). */
  children?: ChildRuns;
  /** The interceptors' step chain; undefined without any, and the attempt then calls the body directly. */
  interceptStep?: StepChain;
}

type TaskFn<T> = (task: TaskContext) => T | Promise<T>;


/** What an attempt returns when the execution stopped under it. */
const PARK = Symbol('park');

/** The narrow view of an execution that the primitives in ./primitives work through. */
type PrimitiveHost = SignalWaitHost & ChildHost & StatusHost;

/** A promise that never settles: how a flow is parked without an exception a user could catch. */
function parked<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/**
 * One execution of one run: the FlowContext the flow method sees, plus the
 * bookkeeping the runner needs afterwards (why it stopped, what is unwritten).
 *
 * Suspension never throws. A step that must wait records why and returns a
 * promise that never settles, so user try/catch/finally blocks around it are
 * neither entered nor skipped; the runner notices through `interrupted` and
 * ends the job. The parked promise chain is garbage once the job ends.
 */
export class Execution<TInput = unknown> implements FlowContext<TInput> {
  readonly runId: string;
  readonly flowId: string;
  /** Owns the token every write carries and the steps not yet written. */
  readonly lease: Lease;
  interrupt?: Interrupt;
  readonly interrupted: Promise<void>;
  /** Aborts every running task's signal when the lease is lost, the run fails, is cancelled or times out. */
  readonly abort = new AbortController();

  private readonly seen = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  /** Short primitive work (creating a child run) that even a cancelled or timed-out ending waits for. */
  private readonly endingWaits = new Set<Promise<unknown>>();
  /** Attempts in flight, by step: what the heartbeat marks and what an ending rewinds. */
  readonly inFlight = new AttemptsInFlight();
  /**
   * One closure per execution, not per step. A refused marker (lease lost, cancel requested) stops the execution;
   * one lost otherwise (a blip, or commandTimeout firing for a reply a blocked event loop had not read yet) only
   * leaves that attempt unmarked: the result write that follows meets any real trouble anyway.
   */
  private readonly markerFailed = (err: unknown) => {
    if (err instanceof LeaseLostError || err instanceof CancelRequestedError) void this.stop(this.writeFailed(err));
  };
  private untimedWarning?: (stepKey: string) => void;
  private nextSeq: number;
  /** How many ctx.wait calls the flow made so far in this execution: a replay counts them again in the same order. */
  private waits = 0;
  private signalInterrupt!: () => void;
  private primitiveHost?: PrimitiveHost;
  /** The run's whole-run deadline, which caps a child's timeout. */
  private readonly deadline?: number;
  private readonly clock: Clock;

  constructor(
    run: RunRecord,
    readonly input: TInput,
    private readonly steps: Map<string, StepRecord>,
    private readonly settings: ExecutionSettings,
  ) {
    this.runId = run.runId;
    this.flowId = run.flowId;
    this.deadline = run.deadline;
    this.lease = settings.lease;
    this.clock = settings.clock ?? systemClock;
    let maxSeq = -1;
    for (const step of steps.values()) maxSeq = Math.max(maxSeq, step.seq);
    this.nextSeq = maxSeq + 1;
    this.interrupted = new Promise((resolve) => (this.signalInterrupt = resolve));
    this.untimedWarning = settings.timeout === undefined ? settings.onUntimedAttempt : undefined;
  }

  // ---- FlowContext -------------------------------------------------------

  task(key: string, fn: TaskFn<unknown>, options?: MemoOptions<unknown>): Promise<void> {
    this.claimKey(key);
    return this.runStep('task', key, fn, options) as Promise<void>;
  }

  memo<T>(key: string, fn: TaskFn<T>, options?: MemoOptions<T>): Promise<T> {
    this.claimKey(key);
    return this.runStep('memo', key, fn, options);
  }

  array<T>(key: string, fn: TaskFn<T[]>, options?: MemoOptions<T[]>): Promise<T[]> {
    this.claimKey(key);
    return this.runStep('array', key, fn, options);
  }

  async<T>(key: string, fn: TaskFn<T>, options?: MemoOptions<T>): Future<T> {
    // The key is claimed now, where the flow names it, so a duplicate is caught even if the future never runs.
    this.claimKey(key);
    return { key, start: (waitGroup) => this.runStep('async', key, fn, options, waitGroup) };
  }

  asyncArray<I, T>(
    key: string,
    items: readonly I[],
    fn: (task: TaskContext, item: I, index: number) => T | Promise<T>,
    options?: MemoOptions<T>,
  ): Future<T>[] {
    return items.map((item, index) => this.async(`${key}:${index}`, (task) => fn(task, item, index), options));
  }

  async wait<T extends readonly Future<unknown>[]>(
    futures: T,
    options?: { concurrency?: number },
  ): Promise<WaitResults<T>> {
    const concurrency = options?.concurrency;
    if (!isValidConcurrency(concurrency)) {
      return this.refuse(
        new InvalidStepError(`ctx.wait: concurrency must be a positive integer or left out; got ${String(concurrency)} in flow "${this.flowId}".`),
      );
    }
    return runInLanes(futures, concurrency ?? futures.length, ++this.waits);
  }

  useStatus<T>(key: string, initial: T): Promise<[T, StatusSetter<T>]> {
    this.claimKey(key);
    return useStatus((this.primitiveHost ??= this.hostForPrimitives()), key, initial);
  }

  sleep(key: string, duration: Duration): Promise<void> {
    this.claimKey(key);
    return sleepFor((this.primitiveHost ??= this.hostForPrimitives()), key, duration);
  }

  sleepUntil(key: string, until: Date | number): Promise<void> {
    this.claimKey(key);
    return sleepUntil((this.primitiveHost ??= this.hostForPrimitives()), key, until);
  }

  waitForSignal<T = unknown>(key: string, name: string, options?: WaitForSignalOptions): Promise<ReceivedSignal<T> | null> {
    this.claimKey(key);
    return waitForSignal<T>((this.primitiveHost ??= this.hostForPrimitives()), key, name, options);
  }

  child(key: string, flow: string | FlowRef<any, any>, input?: unknown, options?: ChildOptions): Promise<any> {
    this.claimKey(key);
    return runChild((this.primitiveHost ??= this.hostForPrimitives()), key, flow, input, options, true);
  }

  startChild(key: string, flow: string | FlowRef<any, any>, input?: unknown): Promise<string> {
    this.claimKey(key);
    return runChild((this.primitiveHost ??= this.hostForPrimitives()), key, flow, input, undefined, false) as Promise<string>;
  }

  // ---- for the runner ----------------------------------------------------

  /** Waits until no step is running, so nothing writes after the runner's last word. */
  async settle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  /** Waits for the primitive work every ending waits for (see holdEnding); nothing when there is none. */
  async settleEndingWaits(): Promise<void> {
    while (this.endingWaits.size) await Promise.allSettled([...this.endingWaits]);
  }

  /** Puts back the steps of attempts in flight when the run is handed back or ends under them (see AttemptsInFlight). */
  rewinds(): StepRewind[] {
    return this.inFlight.rewinds();
  }

  /** Stops the execution from the outside (lease lost on heartbeat, Redis gone, cancel, whole-run timeout). */
  stop(interrupt: Interrupt): Promise<never> {
    this.interrupt = mergeInterrupts(this.interrupt, interrupt);
    // Tasks see why in `signal.reason`: a cancel or a timeout is worth telling apart from a lost lease.
    if (interrupt.kind === 'cancelled') this.abort.abort(new RunCancelledError(this.runId, interrupt.reason || undefined));
    else if (interrupt.kind === 'timeout') this.abort.abort(interrupt.error);
    else if (interrupt.kind !== 'suspend') this.abort.abort();
    this.signalInterrupt();
    return parked();
  }

  // ---- steps -------------------------------------------------------------

  /** Fails the run with a named error the flow cannot catch: the call itself was wrong, retrying cannot help. */
  private refuse(error: Error, stepKey?: string): Promise<never> {
    return this.stop({ kind: 'fatal', error, ...(stepKey !== undefined ? { stepKey } : {}) });
  }

  private claimKey(key: string): void {
    const problem = stepKeyProblem(key, this.flowId);
    if (problem) {
      void this.stop({ kind: 'fatal', error: problem });
      return;
    }
    if (this.seen.has(key)) {
      void this.stop({ kind: 'fatal', error: new DuplicateStepKeyError(key, this.flowId), stepKey: key });
      return;
    }
    this.seen.add(key);
  }

  private runStep<T>(kind: StepKind, key: string, fn: TaskFn<T>, options?: MemoOptions<T>, waitGroup?: number): Promise<T> {
    if (this.interrupt) return parked();
    const known = this.steps.get(key);
    if (known?.status === 'completed') return Promise.resolve(this.replayed(kind, known, options));
    if (known?.status === 'failed') {
      const last = known.errors?.[known.errors.length - 1] ?? { name: 'Error', message: 'unknown error' };
      return Promise.reject(new StepFailedError(key, known.attempts, last));
    }
    if (known?.status === 'retrying' && known.wakeAt! > this.clock.now()) return this.stop({ kind: 'suspend', wakeAt: known.wakeAt! });
    // Only the attempt itself counts as in flight: a step that parks must not keep settle() waiting.
    const running = this.attempt(kind, key, fn, options, known, waitGroup);
    this.inflight.add(running);
    const forget = () => this.inflight.delete(running);
    running.then(forget, forget);
    return running.then((value) => (value === PARK ? parked<T>() : value));
  }

  private replayed<T>(kind: StepKind, record: StepRecord, options?: MemoOptions<T>): T {
    return (kind === 'task' ? undefined : decode(record.result, options?.type as never)) as T;
  }

  private async attempt<T>(
    kind: StepKind,
    key: string,
    fn: TaskFn<T>,
    options: MemoOptions<T> | undefined,
    known?: StepRecord,
    waitGroup?: number,
  ): Promise<T | typeof PARK> {
    const retries = options?.retries ?? this.settings.retries;
    const seq = known?.seq ?? this.nextSeq++;
    let attempts = known?.attempts ?? 0;
    let errors = known?.errors ?? [];
    // Marked running, yet this execution holds the lease: the execution that began the attempt lost
    // its lease before recording how it ended. It failed, so retries run out instead of looping.
    // `at`: where a lost attempt's backoff counts from; `began`: when the failed attempt began (kept with its error).
    let failure: { error: unknown; at?: number; began?: number } | undefined =
      known?.status === 'running' ? { error: this.leaseExpired(key, known), at: known.startedAt, began: known.startedAt } : undefined;
    for (;;) {
      if (failure) {
        if (isHardStop(this.interrupt)) return PARK;
        const { error } = failure;
        const info = errorInfo(error);
        // Only the latest error keeps its stack: ten stacks per failing step would bloat the run hash.
        errors = [...errors.map(withoutStack), { ...info, attempt: attempts, at: this.clock.now(), startedAt: failure.began }].slice(-10);
        await this.settings.onStepError({ error: info, stepKey: key, attempt: attempts });
        if (error instanceof NonRetriableError || attempts > retries) {
          const failed: StepRecord = { kind, status: 'failed', attempts, seq, errors, finishedAt: this.clock.now(), startedAt: failure.began };
          if (waitGroup) failed.waitGroup = waitGroup;
          if (!(await this.write(key, failed))) return PARK;
          throw new StepFailedError(key, attempts, info);
        }
        // A lost attempt's backoff counts from its start: its lease already kept the step from running for a while.
        const wakeAt = (failure.at ?? this.clock.now()) + backoffMs(options?.backoff ?? this.settings.backoff, attempts);
        failure = undefined;
        if (wakeAt > this.clock.now()) {
          const retrying: StepRecord = { kind, status: 'retrying', attempts, seq, errors, wakeAt };
          if (waitGroup) retrying.waitGroup = waitGroup;
          this.defer(key, retrying);
          // Deferred records are dropped by a hand-back; this one must not be (Redis may still say running).
          this.inFlight.begin(key, retrying);
          void this.stop({ kind: 'suspend', wakeAt });
          return PARK;
        }
      }
      if (this.interrupt) return PARK;
      // After the event loop was blocked past the lease (this step's last attempt, or another run's step), the run
      // may be another execution's already: a body must not start (unrecorded) there.
      const now = this.clock.now();
      if (!this.lease.surelyHeld(Date.now()) && !(await this.leaseStillHeld())) return PARK;
      attempts++;
      this.markBegun(kind, key, seq, attempts, errors, now);
      let value: T;
      try {
        const intercept = this.settings.interceptStep;
        value = await (intercept === undefined
          ? this.invoke(key, fn, attempts, options?.timeout ?? this.settings.timeout)
          : (intercept({ flowId: this.flowId, runId: this.runId, key, kind, attempt: attempts }, () =>
              this.invoke(key, fn, attempts, options?.timeout ?? this.settings.timeout),
            ) as Promise<T>));
        if (kind === 'array' && !Array.isArray(value)) {
          throw new NonRetriableError(`ctx.array("${key}") must return an array; got ${typeof value}.`);
        }
      } catch (error) {
        failure = { error, began: now };
        continue;
      }
      // Known lost (heartbeat refused, shutdown hand-back): the write would be refused anyway.
      if (isHardStop(this.interrupt)) return PARK;
      // A task's return value is typed void and never read back: it is not encoded at all (an ORM
      // entity with cycles must not fail a run whose side effect already ran). For the other kinds,
      // a result that cannot be stored is the flow's bug: retrying would not help, so it surfaces at once.
      const result = kind === 'task' ? undefined : this.encodeChecked(value, `Result of step "${key}"`);
      // startedAt and waitGroup cost no command: a few bytes in the one write the step makes anyway (see step-codec).
      const record: StepRecord = { kind, status: 'completed', attempts, seq, result, finishedAt: this.clock.now(), startedAt: now };
      if (errors.length) record.errors = errors;
      if (waitGroup) record.waitGroup = waitGroup;
      if (!(await this.write(key, record))) return PARK;
      if (kind === 'task') return undefined as T;
      // Primitives come back from a replay as they are; only objects need the
      // round trip that makes a first run return what a replay will (Dates, class instances, copies).
      return value === null || (typeof value !== 'object' && !options?.type) ? value : decode<T>(result, options?.type as never);
    }
  }

  /**
   * Keeps the attempt as in flight: the next heartbeat writes its running
   * marker if it is still running then, so the run view shows it and a
   * takeover counts it as lost. No command per step. After a takeover the
   * marker is written now, before the body (not awaited: it goes out on the
   * socket ahead of the result write on the same connection; a refusal stops
   * the execution when it arrives).
   */
  private markBegun(kind: StepKind, key: string, seq: number, attempts: number, errors: NonNullable<StepRecord['errors']>, startedAt: number): void {
    const running: StepRecord = { kind, status: 'running', attempts, seq, startedAt, node: this.settings.node };
    if (errors.length) running.errors = errors;
    this.inFlight.begin(key, running, this.settings.eagerMarkers);
    if (this.settings.eagerMarkers) this.lease.mark(key, running, this.markerFailed);
  }

  /** Asks Redis (one round trip) whether the lease is still ours; if not, the execution stops. */
  private async leaseStillHeld(): Promise<boolean> {
    try {
      await this.lease.renew();
      return !this.interrupt;
    } catch (err) {
      void this.stop(this.writeFailed(err));
      return false;
    }
  }

  /** What a takeover records for an attempt whose execution lost the lease before it ended. */
  private leaseExpired(key: string, record: StepRecord): LeaseExpiredError {
    const before = record.errors?.filter((e) => e.name === LeaseExpiredError.name).length ?? 0;
    return new LeaseExpiredError(key, before + 1, this.settings.leaseMs);
  }

  private async invoke<T>(key: string, fn: TaskFn<T>, attempt: number, timeout?: Duration): Promise<T> {
    // Without a timeout the execution's own signal is the step's signal: no
    // controller and listener per step on the hot path (they showed in profiles).
    if (timeout === undefined) {
      if (this.untimedWarning) {
        this.untimedWarning(key);
        this.untimedWarning = undefined;
      }
      return fn({ attempt, runId: this.runId, flowId: this.flowId, key, signal: this.abort.signal });
    }
    const ms = toMs(timeout, `timeout of step "${key}"`);
    return callWithTimeout(fn, { attempt, runId: this.runId, flowId: this.flowId, key }, this.abort.signal, ms);
  }

  private encodeChecked(value: unknown, what: string): string | undefined {
    const text = encode(value, what);
    // A UTF-8 char is at most 3 bytes per UTF-16 unit: short strings skip the byte count.
    if (text !== undefined && text.length * 3 > this.settings.maxPayloadBytes) {
      const bytes = Buffer.byteLength(text);
      if (bytes > this.settings.maxPayloadBytes) throw new PayloadTooLargeError(what, bytes, this.settings.maxPayloadBytes);
    }
    return text;
  }

  /** The narrow view of this execution that primitives in ./primitives work through. */
  private hostForPrimitives(): PrimitiveHost {
    const track = <T>(work: Promise<T>): Promise<T> => {
      this.inflight.add(work);
      const forget = () => this.inflight.delete(work);
      work.then(forget, forget);
      return work;
    };
    return {
      runId: this.runId,
      deadline: this.deadline,
      children: this.settings.children,
      defer: (key, record) => this.defer(key, record),
      holdEnding: (work) => {
        // In flight as any primitive's round trip (a suspend waits for it), and also waited for by the endings that
        // do not wait for running steps (cancel, timeout, hand-back).
        this.endingWaits.add(work);
        const forget = () => this.endingWaits.delete(work);
        work.then(forget, forget);
        return track(work);
      },
      lease: this.lease,
      now: () => this.clock.now(),
      stopped: () => this.interrupt !== undefined,
      known: (key) => this.steps.get(key),
      seqOf: (key) => this.steps.get(key)?.seq ?? this.nextSeq++,
      remember: (key, record) => void this.steps.set(key, record),
      track,
      stop: (interrupt) => this.stop(interrupt),
      parked,
      encodeChecked: (value, what) => this.encodeChecked(value, what),
      write: (key, record) => this.write(key, record),
    };
  }

  private defer(key: string, record: StepRecord): void {
    this.steps.set(key, record);
    this.lease.defer(key, record);
  }

  /** Writes the step (and anything deferred); false when the execution had to stop instead. */
  private async write(key: string, record: StepRecord): Promise<boolean> {
    this.steps.set(key, record);
    this.inFlight.end(key);
    try {
      await this.lease.write(key, record);
      return true;
    } catch (err) {
      void this.stop(this.writeFailed(err));
      return false;
    }
  }

  /** Why the execution stops when one of its writes fails. */
  private writeFailed(err: unknown): Interrupt {
    if (err instanceof LeaseLostError) return { kind: 'lease-lost' };
    if (err instanceof CancelRequestedError) return { kind: 'cancelled', reason: err.reason };
    return { kind: 'infra', error: err as Error };
  }
}
