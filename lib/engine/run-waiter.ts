import { RedisUnavailableError, RunNotFoundError, WaitForRunTimeoutError } from '../common/errors';
import { beforeDeadline, pollUntilFinished } from '../common/poll-until-finished';
import type { RunStatus } from '../common/types';
import type { RunEnds, RunStore } from './ports';

/** How long waitForRun waits for its subscription before it falls back to plain polling. */
const SUBSCRIBE_WAIT_MS = 1000;
/** The poll under a subscribed waitForRun: only there for a lost message. */
const FALLBACK_FIRST_PAUSE_MS = 250;
const FALLBACK_MAX_PAUSE_MS = 2000;

/**
 * Resolves once the run has ended (completed, failed or cancelled); rejects
 * with WaitForRunTimeoutError at the deadline, exactly. Woken by the run's end
 * (pub/sub on one shared connection), not by polling; a slow poll stays
 * underneath so a lost message cannot strand a waiter.
 */
export async function waitUntilEnded(store: RunStore, ends: RunEnds, runId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  let wake: (() => void) | undefined;
  let stopWatching: (() => void) | undefined;
  // Listening before the first read: an end between that read and the subscription cannot be missed.
  const watching = ends.watch(runId, () => {
    ended = true;
    wake?.();
  });
  try {
    stopWatching = await beforeDeadline(watching, Math.min(deadline, Date.now() + SUBSCRIBE_WAIT_MS), () => new RedisUnavailableError('no subscription'));
  } catch {
    // No subscription (Redis away or slow): plain polling, at the pace of old; a late one is let go.
    void watching.then((stop) => stop(), () => undefined);
  }
  try {
    await pollUntilFinished<RunStatus>({
      read: () => store.status(runId),
      statusOf: (status) => status,
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
  } finally {
    wake = undefined;
    stopWatching?.();
  }
}
