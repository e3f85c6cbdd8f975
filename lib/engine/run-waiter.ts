import { RedisUnavailableError, RunNotFoundError, WaitForRunTimeoutError } from '../common/errors';
import { beforeDeadline, pollUntilFinished } from '../common/poll-until-finished';
import type { RunStatus } from '../common/types';
import type { RunEnds, RunRecord, RunStore, StepRecord } from './ports';

/** What a waiter read last: the status alone, or (once the end was heard) the whole run. */
type Seen = RunStatus | { run: RunRecord; steps: Map<string, StepRecord> };

const statusOf = (seen: Seen): string => (typeof seen === 'string' ? seen : seen.run.status);

/** How long waitForRun waits for its subscription before it falls back to plain polling. */
const SUBSCRIBE_WAIT_MS = 1000;
/** The poll under a subscribed waitForRun: only there for a lost message. */
const FALLBACK_FIRST_PAUSE_MS = 250;
const FALLBACK_MAX_PAUSE_MS = 2000;

/**
 * Resolves with the run once it has ended (completed, failed or cancelled);
 * rejects with WaitForRunTimeoutError at the deadline, exactly. Woken by the
 * run's end (pub/sub on one shared connection), not by polling; a slow poll
 * stays underneath so a lost message cannot strand a waiter. Polls read the
 * status alone; the read a message prompts reads the whole run, so the caller
 * needs no further round trip.
 */
export async function waitUntilEnded(store: RunStore, ends: RunEnds, runId: string, timeoutMs: number): Promise<{ run: RunRecord; steps: Map<string, StepRecord> }> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  let heard = false;
  let wake: (() => void) | undefined;
  let stopWatching: (() => void) | undefined;
  // Listening before the first read: an end between that read and the subscription cannot be missed.
  const watching = ends.watch(runId, () => {
    ended = heard = true;
    wake?.();
  });
  try {
    stopWatching = await beforeDeadline(watching, Math.min(deadline, Date.now() + SUBSCRIBE_WAIT_MS), () => new RedisUnavailableError('no subscription'));
  } catch {
    // No subscription (Redis away or slow): plain polling, at the pace of old; a late one is let go.
    void watching.then((stop) => stop(), () => undefined);
  }
  const read = async (): Promise<Seen | null> => {
    if (!heard) return store.status(runId);
    heard = false;
    return store.get(runId);
  };
  try {
    const seen = await pollUntilFinished<Seen>({
      read,
      statusOf,
      deadline,
      notFound: () => new RunNotFoundError(runId),
      timedOut: (status) => new WaitForRunTimeoutError(runId, timeoutMs, status),
      transient: (err) => err instanceof RedisUnavailableError,
      // One small HGET per poll: 5 ms to 200 ms apart without a subscription, a slow safety net with one.
      firstPauseMs: stopWatching ? FALLBACK_FIRST_PAUSE_MS : 5,
      maxPauseMs: stopWatching ? FALLBACK_MAX_PAUSE_MS : 200,
      // A message only cuts one pause short: should the run not read as ended (say it was
      // retried since), the waiter goes back to pausing rather than reading in a loop.
      pause: (ms) =>
        ended
          ? Promise.resolve((ended = false))
          : new Promise<void>((resolve) => {
              const timer = setTimeout(() => {
                wake = undefined;
                resolve();
              }, ms);
              wake = () => {
                wake = undefined;
                clearTimeout(timer);
                resolve();
              };
            }),
    });
    // Ended before the message came (or without one): the whole run is one more read.
    if (typeof seen !== 'string') return seen;
    const found = await store.get(runId);
    if (!found) throw new RunNotFoundError(runId);
    return found;
  } finally {
    wake = undefined;
    stopWatching?.();
  }
}
