import { randomUUID } from 'node:crypto';
import type { ClaimResult, RunOutcome, RunStore, StepRecord, StepWrite } from '../ports';

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
  ) {}

  async claim(): Promise<ClaimResult> {
    const sent = Date.now();
    const result = await this.store.claim(this.runId, this.token, this.leaseMs);
    this.heldUntil = sent + this.leaseMs;
    return result;
  }

  /** Renews the lease every third of its length; `onError` hears a refused or failed renewal. */
  startHeartbeat(onError: (err: unknown) => void): void {
    this.heartbeat = setInterval(() => void this.renew().catch(onError), Math.max(100, Math.floor(this.leaseMs / 3)));
  }

  /** True while renewals keep up; false after a gap longer than the lease (then ask Redis with renew()). */
  surelyHeld(now: number): boolean {
    return now < this.heldUntil;
  }

  /** Extends the lease now; throws LeaseLostError when another execution holds the run. */
  async renew(): Promise<void> {
    const sent = Date.now();
    await this.store.touch(this.runId, this.token, this.leaseMs);
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
    await this.store.saveSteps(this.runId, this.token, this.takePending());
  }

  /**
   * Records that an attempt starts, without waiting for Redis: ioredis writes
   * the command to the socket now (in order, on the connection every later
   * write of this execution uses), so it lands before the step's result and
   * before a step that blocks the event loop can keep it back. Deferred steps
   * stay for the next write. `onFailed` hears a refusal (lease lost) or an error.
   */
  mark(key: string, record: StepRecord, onFailed: (err: unknown) => void): void {
    this.store.saveSteps(this.runId, this.token, [[key, record]]).catch(onFailed);
  }

  suspend(wakeAt: number): Promise<void> {
    return this.store.suspend(this.runId, this.token, wakeAt, this.takePending());
  }

  finish(outcome: RunOutcome): Promise<void> {
    return this.store.finish(this.runId, this.token, outcome, this.takePending());
  }

  /**
   * Gives the run back so another worker takes it at once; deferred steps are
   * dropped with it. `handBack` (steps put back as not begun) is written first.
   */
  async release(handBack: readonly StepWrite[] = []): Promise<void> {
    this.pending = [];
    if (handBack.length) await this.store.saveSteps(this.runId, this.token, handBack);
    await this.store.release(this.runId, this.token);
  }

  private takePending(): StepWrite[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }
}
