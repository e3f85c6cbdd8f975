import { randomUUID } from 'node:crypto';
import { RedisUnavailableError } from '../../common/errors';
import { CancelRequestedError } from '../errors';
import type { ClaimResult, MailboxStore, RunOutcome, RunStore, StepRecord, StepRewind, StepWrite, TakeResult } from '../ports';

const NO_MARKERS: readonly StepWrite[] = [];

/** The attempts of an execution that are in flight, as its heartbeat writes them. */
export interface InFlightMarkers {
  /** Running markers not in Redis yet; from now on counted as written. */
  markersDue(): readonly StepWrite[];
  /** Markers whose renewal failed: due again at the next one. */
  markersUnsent(markers: readonly StepWrite[]): void;
}

/**
 * One execution's hold on a run: the token every write carries, the
 * heartbeat that keeps it, and the steps recorded in memory but not yet
 * written. Every write of an execution goes through here and is fenced by
 * the token: once another execution holds the run, the store refuses it
 * (LeaseLostError).
 */
export class Lease {
  readonly token = randomUUID();
  private pending: StepWrite[] = [];
  private heartbeat?: NodeJS.Timeout;
  /**
   * Until when (this process's clock) the lease is surely ours: a lease length
   * after the last claim or renewal was sent, which is no later than Redis
   * started counting it. Past it (the event loop was blocked, or renewals
   * failed) another execution may hold the run.
   */
  private heldUntil = 0;

  constructor(
    readonly runId: string,
    private readonly store: RunStore,
    private readonly leaseMs: number,
    private readonly mailbox?: MailboxStore,
  ) {}

  async claim(request?: string): Promise<ClaimResult> {
    const sent = Date.now();
    const result = await this.store.claim(this.runId, this.token, this.leaseMs, request);
    this.heldUntil = sent + this.leaseMs;
    return result;
  }

  /**
   * Renews the lease every third of its length; `onError` hears a refused or failed renewal.
   * Each renewal carries the running markers `inFlight` has due (attempts begun since the last one and
   * still running): zero extra commands per step, and a step in flight shows in Redis within a third of the lease.
   */
  startHeartbeat(onError: (err: unknown) => void, inFlight?: InFlightMarkers): void {
    this.heartbeat = setInterval(() => {
      const markers = inFlight?.markersDue() ?? NO_MARKERS;
      this.renew(markers).catch((err) => {
        if (markers.length) inFlight!.markersUnsent(markers);
        onError(err);
      });
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
  }

  /** True while renewals keep up; false after a gap longer than the lease (then ask Redis with renew()). */
  surelyHeld(now: number): boolean {
    return now < this.heldUntil;
  }

  /** Extends the lease now (writing `markers` along); throws LeaseLostError when another execution holds the run. */
  async renew(markers: readonly StepWrite[] = NO_MARKERS): Promise<void> {
    const sent = Date.now();
    await this.store.touch(this.runId, this.token, this.leaseMs, markers);
    this.heldUntil = Math.max(this.heldUntil, sent + this.leaseMs);
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  /** Keeps a step for the next write: a marker whose loss only means it is recorded again. */
  defer(key: string, record: StepRecord): void {
    this.pending.push([key, record]);
  }

  /** Writes the step with everything deferred before it: one round trip. */
  async write(key: string, record: StepRecord): Promise<void> {
    this.defer(key, record);
    const batch = this.takePending();
    try {
      await this.store.saveSteps(this.runId, this.token, batch);
    } catch (err) {
      this.keepForCancel(batch, err);
      throw err;
    }
  }

  /**
   * Records that an attempt starts, without waiting for Redis (only after a
   * takeover, see Execution): ioredis writes the command to the socket now
   * (in order, on the connection every later write of this execution uses),
   * so it lands before the step's result and before a step that blocks the
   * event loop can keep it back. Deferred steps stay for the next write.
   * `onFailed` hears a refusal (lease lost, cancel requested) or an error.
   */
  mark(key: string, record: StepRecord, onFailed: (err: unknown) => void): void {
    this.store.saveSteps(this.runId, this.token, [[key, record]]).catch(onFailed);
  }

  /**
   * Stores this execution's trace context with the run (tracing on), for the
   * next execution's link. Not awaited: it goes out ahead of the step writes
   * on the same connection, and a lost one only leaves a link out.
   */
  recordTrace(traceparent: string): void {
    this.store.recordTrace(this.runId, this.token, traceparent).catch(() => undefined);
  }

  /** Decides a signal wait (see MailboxStore.take), writing the deferred steps along: one round trip. */
  takeSignal(wait: Parameters<MailboxStore['take']>[2]): Promise<TakeResult> {
    if (!this.mailbox) throw new Error('This lease was made without a mailbox store.');
    const batch = this.takePending();
    return this.mailbox.take(this.runId, this.token, wait, batch).catch((err) => this.keepForCancel(batch, err));
  }

  /**
   * Parks the run; `resumeJob` is the id of the delayed job the caller adds next to wake it, or
   * undefined to leave the wake-up to the timer pump.
   */
  suspend(wakeAt: number, resumeJob?: string): Promise<void> {
    const steps = this.takePending();
    // One timestamp for every repeat: a park without a job id knows its own resend by it.
    const now = Date.now();
    return this.throughBlips(() => this.store.suspend(this.runId, this.token, wakeAt, resumeJob, steps, now)).catch((err) => this.keepForCancel(steps, err));
  }

  /** Ends the run; `rewinds` put back the steps whose attempts this ending cut off. */
  finish(outcome: RunOutcome, rewinds?: readonly StepRewind[]): Promise<void> {
    const steps = this.takePending();
    return this.throughBlips(() => this.store.finish(this.runId, this.token, outcome, steps, rewinds)).catch((err) => this.keepForCancel(steps, err));
  }

  /**
   * Gives the run back so another worker takes it at once (`resumeJob`: the job the caller adds next);
   * deferred steps are dropped with it. `rewinds` put back the steps whose attempts the hand-back stopped.
   */
  release(resumeJob: string, rewinds?: readonly StepRewind[]): Promise<void> {
    this.pending = [];
    return this.store.release(this.runId, this.token, resumeJob, rewinds);
  }

  /**
   * Repeats a conclusion (finish, suspend) that failed on a Redis blip. It
   * may have been applied with only its reply lost; both scripts answer a
   * repeat from the same token as they answered the first call, so repeating
   * is safe, and it is what lets the hooks run (or the resume job be added)
   * for a run that did conclude. Bounded by the lease: past it another
   * execution may hold the run, and the fence refuses this one anyway.
   */
  private async throughBlips(write: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.leaseMs;
    for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
      try {
        return await write();
      } catch (err) {
        if (!(err instanceof RedisUnavailableError) || Date.now() + pause > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  }

  /** Gives back a run whose flow this node lacks, uncounting the claim (see RunStore.handBack). */
  handBack(retryAt: number, resumeJob: string): Promise<{ first: boolean; since: number }> {
    this.pending = [];
    return this.store.handBack(this.runId, this.token, retryAt, resumeJob);
  }

  /**
   * A write refused for a cancel request wrote nothing, and the execution ends
   * cancelled next. The records of child runs it carried are kept for that
   * finish: the cancel cascade reads them to find the children. Every other
   * step stays unwritten, as a cancelled execution's late writes are. Rethrows `err`.
   */
  private keepForCancel(batch: StepWrite[], err: unknown): never {
    if (err instanceof CancelRequestedError) {
      const children = batch.filter(([, record]) => record.kind === 'child');
      if (children.length) this.pending = children.concat(this.pending);
    }
    throw err;
  }

  private takePending(): StepWrite[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }
}
