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

  constructor(
    readonly runId: string,
    private readonly store: RunStore,
    private readonly leaseMs: number,
  ) {}

  claim(): Promise<ClaimResult> {
    return this.store.claim(this.runId, this.token, this.leaseMs);
  }

  /** Renews the lease every third of its length; `onError` hears a refused or failed renewal. */
  startHeartbeat(onError: (err: unknown) => void): void {
    this.heartbeat = setInterval(() => {
      this.store.touch(this.runId, this.token, this.leaseMs).catch(onError);
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
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
