import type { Clock } from '../../engine/clock';

/** A hash as Redis keeps it: field -> string value. */
export type Hash = Map<string, string>;

/**
 * The state the memory backend's stores share, laid out as the Redis stores
 * lay it out (one hash per run with its steps as 's:<key>' fields, one
 * mailbox hash per run, one index per flow, one timer set), so each port
 * method can follow its Lua script line by line. Expiry is checked on read
 * against the backend's clock, as Redis checks it on access.
 */
export class MemoryDb {
  private readonly runs = new Map<string, Hash>();
  private readonly mailboxes = new Map<string, Hash>();
  /** Expiry times of run hashes and mailboxes, by 'run:<id>' or 'mailbox:<id>'. */
  private readonly expiries = new Map<string, number>();
  /** flowId -> (runId -> score), the listRuns index. */
  readonly indexes = new Map<string, Map<string, number>>();
  /** runId -> when a worker must have picked the run up (the reconciler's to-do list). */
  readonly timers = new Map<string, number>();
  private readonly endWatchers = new Set<(runId: string) => void>();

  constructor(readonly clock: Clock) {}

  run(runId: string): Hash | undefined {
    return this.live(this.runs, 'run:', runId);
  }

  newRun(runId: string): Hash {
    const hash: Hash = new Map();
    this.runs.set(runId, hash);
    this.expiries.delete(`run:${runId}`);
    return hash;
  }

  mailbox(runId: string): Hash | undefined {
    return this.live(this.mailboxes, 'mailbox:', runId);
  }

  /** The run's mailbox, created empty when absent (as HSET creates a hash). */
  mailboxFor(runId: string): Hash {
    let hash = this.mailbox(runId);
    if (!hash) this.mailboxes.set(runId, (hash = new Map()));
    return hash;
  }

  dropMailbox(runId: string): void {
    this.mailboxes.delete(runId);
    this.expiries.delete(`mailbox:${runId}`);
  }

  /** PEXPIRE on the run and its mailbox (retention 0 keeps them). */
  expireRun(runId: string, retentionMs: number): void {
    if (retentionMs <= 0) return;
    const at = this.clock.now() + retentionMs;
    this.expiries.set(`run:${runId}`, at);
    if (this.mailboxes.has(runId)) this.expiries.set(`mailbox:${runId}`, at);
  }

  /** PEXPIRE on the mailbox alone. */
  expireMailbox(runId: string, retentionMs: number): void {
    if (retentionMs > 0 && this.mailboxes.has(runId)) this.expiries.set(`mailbox:${runId}`, this.clock.now() + retentionMs);
  }

  /** PERSIST on the run and its mailbox. */
  persistRun(runId: string): void {
    this.expiries.delete(`run:${runId}`);
    this.expiries.delete(`mailbox:${runId}`);
  }

  /** What PUBLISH on '<prefix>:ends' does: every watcher hears it, after the current call returns. */
  publishEnd(runId: string): void {
    queueMicrotask(() => {
      for (const watcher of this.endWatchers) watcher(runId);
    });
  }

  onEnd(watcher: (runId: string) => void): () => void {
    this.endWatchers.add(watcher);
    return () => this.endWatchers.delete(watcher);
  }

  private live(map: Map<string, Hash>, kind: string, runId: string): Hash | undefined {
    const hash = map.get(runId);
    if (!hash) return undefined;
    const expiry = this.expiries.get(kind + runId);
    if (expiry !== undefined && expiry <= this.clock.now()) {
      map.delete(runId);
      this.expiries.delete(kind + runId);
      return undefined;
    }
    return hash;
  }
}

export const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
