// Signals and retries: the mailbox a run takes its signals from, and sending a run back to the queue.
import type { RunStatus } from '../../common/types';
import type { StepWrite } from './records';

/** What the signal script made of a signal. */
export type SendResult =
  | { kind: 'stored'; wake: boolean }
  | { kind: 'missing' }
  | { kind: 'finished'; status: RunStatus }
  | { kind: 'full' };

/** The step records take() writes, whichever way the wait is decided (packed as the store keeps them). */
export interface SignalWaitRecords {
  /** The step completed with the signal: `before` + the stored signal (a JSON string) + `after`. */
  received: { before: string; after: string };
  /** The step completed with null: the timeout passed first. */
  timedOut: string;
  /** The step still waiting. */
  waiting: string;
}

export type TakeResult =
  | { kind: 'received'; signal: string }
  | { kind: 'timed-out' }
  | { kind: 'waiting' };

/**
 * Each run's signal mailbox: FIFO per name, in the run's Cluster slot, kept
 * until a wait takes the signal. Taking is fenced by the execution's lease,
 * like every other write of an execution.
 */
export interface MailboxStore {
  /** Stores an encoded signal unless the run is unknown, finished, or already holds `max` signals. */
  send(runId: string, name: string, signal: string, max: number): Promise<SendResult>;
  /**
   * In one atomic step: takes the oldest signal `name` and records the step
   * completed with it; or, with none and `now >= timeoutAt`, records it
   * completed with null; or records it waiting (and marks the run as waiting
   * for `name`, so send() wakes it). `steps` are the deferred steps of the
   * execution, written along. Throws LeaseLostError when the lease is gone.
   */
  take(
    runId: string,
    token: string,
    wait: { stepKey: string; name: string; now: number; timeoutAt?: number; records: SignalWaitRecords },
    steps: readonly StepWrite[],
  ): Promise<TakeResult>;
  /** Whether a signal of any of `names` is waiting in the mailbox. */
  holdsAny(runId: string, names: readonly string[]): Promise<boolean>;
  /** Starts the retention clock of a finished run's mailbox (0 keeps it). */
  expire(runId: string, retentionMs: number): Promise<void>;
}

export type RetryStoreResult = { kind: 'queued' } | { kind: 'missing' } | { kind: 'not-retriable'; status: RunStatus };

/** Sends a failed or cancelled run back to the queue, in one atomic step. */
export interface RetryStore {
  retry(runId: string, now: number): Promise<RetryStoreResult>;
}
