import { isFinished } from './run-status';
import { setLongTimeout, type LongTimer } from './timers';

export interface PollOptions<T> {
  /** Reads the run's state: null when there is no such run. */
  read: () => Promise<T | null>;
  statusOf: (value: T) => string;
  /** When the caller gives up (ms since the epoch). */
  deadline: number;
  /** The error for a run that does not exist. */
  notFound: () => Error;
  /** The error at the deadline, given the last status seen. */
  timedOut: (status: string) => Error;
  /** A read error worth riding out (a Redis blip, a dropped connection) until the deadline. */
  transient?: (err: unknown) => boolean;
  firstPauseMs: number;
  maxPauseMs: number;
  /** Waits between reads (default a plain timer); may end early, e.g. when the run's end is heard. */
  pause?: (ms: number) => Promise<unknown>;
}

/** Settles with `call`, or rejects with `onTimeout()` at `deadline`, whichever comes first. */
export function beforeDeadline<T>(call: Promise<T>, deadline: number, onTimeout: () => Error): Promise<T> {
  let timer: LongTimer | undefined;
  const late = new Promise<never>((_, reject) => {
    // A long wait ('30d') must not overflow setTimeout and give up after 1 ms.
    timer = setLongTimeout(() => reject(onTimeout()), Math.max(0, deadline - Date.now()));
  });
  return Promise.race([call, late]).finally(() => timer?.cancel());
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads until the run has finished, backing off between reads. The deadline
 * holds exactly: a read that hangs (a frozen Redis, a stalled socket) is cut
 * off at it rather than awaited.
 */
export async function pollUntilFinished<T>(options: PollOptions<T>): Promise<T> {
  let status = 'unknown';
  const timedOut = () => options.timedOut(status);
  for (let wait = options.firstPauseMs; ; wait = Math.min(wait * 2, options.maxPauseMs)) {
    let value: T | null;
    try {
      value = await beforeDeadline(options.read(), options.deadline, timedOut);
    } catch (err) {
      if (!options.transient?.(err) || Date.now() >= options.deadline) throw err;
      await pause(Math.min(100, Math.max(1, options.deadline - Date.now())));
      continue;
    }
    if (value === null) throw options.notFound();
    status = options.statusOf(value);
    if (isFinished(status)) return value;
    if (Date.now() >= options.deadline) throw timedOut();
    await (options.pause ?? pause)(Math.min(wait, Math.max(1, options.deadline - Date.now())));
  }
}
