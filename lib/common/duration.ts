import ms from 'ms';
import { InvalidDurationError } from './errors';

/** Milliseconds, or a string such as '500ms', '3s', '5m', '1h', '2d'. @public */
export type Duration = number | string;

/**
 * The latest time the engine stores: 9999-12-31T23:59:59.999Z. Wake times past
 * it are refused at the call; JavaScript Dates end not far beyond, and a time
 * no Date can show would break every view of the run.
 * @public
 */
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Turns a Duration into milliseconds, refusing anything negative, unreadable or longer than MAX_TIME_MS. */
export function toMs(duration: Duration, what = 'duration'): number {
  let value: unknown;
  try {
    value = typeof duration === 'number' ? duration : ms(duration as ms.StringValue);
  } catch {
    value = undefined; // ms throws on '' and on non-strings; fall through to our own message
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidDurationError(`Invalid ${what} ${JSON.stringify(duration)}: use milliseconds or a string like '3s', '5m', '1h', '2d'.`);
  }
  if (value > MAX_TIME_MS) {
    throw new InvalidDurationError(`Invalid ${what} ${JSON.stringify(duration)}: longer than the engine stores (about 8,000 years).`);
  }
  return Math.round(value);
}

/** A point in time (ms since the epoch) the engine can store, or an InvalidDurationError naming `what`. */
export function checkTime(at: number, what: string): number {
  if (!Number.isFinite(at)) throw new InvalidDurationError(`Invalid ${what}: ${String(at)} is not a valid time.`);
  if (at > MAX_TIME_MS) {
    throw new InvalidDurationError(`Invalid ${what}: ${at} is past the latest time the engine stores (${new Date(MAX_TIME_MS).toISOString()}).`);
  }
  return at;
}
