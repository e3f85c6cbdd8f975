import ms from 'ms';
import { InvalidDurationError } from './errors';

/**
 * The units a Duration string may end with: every form the `ms` parser reads,
 * in lower case (it also reads upper case; the type keeps one spelling).
 * @public
 */
export type DurationUnit =
  | 'ms' | 'msec' | 'msecs' | 'millisecond' | 'milliseconds'
  | 's' | 'sec' | 'secs' | 'second' | 'seconds'
  | 'm' | 'min' | 'mins' | 'minute' | 'minutes'
  | 'h' | 'hr' | 'hrs' | 'hour' | 'hours'
  | 'd' | 'day' | 'days'
  | 'w' | 'week' | 'weeks'
  | 'y' | 'yr' | 'yrs' | 'year' | 'years';

/**
 * Milliseconds, or a number with a unit: '500ms', '3s', '5m', '1h', '2d', '1 week'.
 * A literal the parser cannot read ('soon', '5 mins later') is a compile error;
 * for a plain `string` (an env var, a config file) use {@link asDuration}.
 * @public
 */
export type Duration = number | `${number}${DurationUnit}` | `${number} ${DurationUnit}`;

/**
 * Checks a duration that arrives as a plain string or number (an env var, a
 * config value) and returns it typed as a Duration; throws InvalidDurationError (a GoTickError) naming
 * `what` when it cannot be read, so a bad value fails where it is read, not
 * when a step first uses it.
 * @example worker: { lease: asDuration(process.env.LEASE ?? '30s', 'LEASE') }
 * @public
 */
export function asDuration(value: string | number, what = 'duration'): Duration {
  toMs(value as Duration, what);
  return value as Duration;
}

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
