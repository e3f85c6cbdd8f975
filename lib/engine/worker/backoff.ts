import { toMs } from '../../common/duration';
import type { Backoff } from '../../common/types';

/** Delay before the retry that follows failed attempt number `attempt` (1-based). */
export function backoffMs(backoff: Backoff, attempt: number): number {
  if (typeof backoff === 'number' || typeof backoff === 'string') return toMs(backoff, 'backoff');
  const base = toMs(backoff.delay, 'backoff delay');
  const max = backoff.maxDelay === undefined ? Infinity : toMs(backoff.maxDelay, 'backoff maxDelay');
  const delay = backoff.type === 'exponential' ? base * 2 ** (attempt - 1) : base;
  return Math.min(delay, max);
}
