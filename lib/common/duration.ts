import ms from 'ms';
import { GoTickError } from './errors';

/** Milliseconds, or a string such as '500ms', '3s', '5m', '1h', '2d'. @public */
export type Duration = number | string;

/** Turns a Duration into milliseconds, refusing anything negative or unreadable. */
export function toMs(duration: Duration, what = 'duration'): number {
  let value: unknown;
  try {
    value = typeof duration === 'number' ? duration : ms(duration as ms.StringValue);
  } catch {
    value = undefined; // ms throws on '' and on non-strings; fall through to our own message
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new GoTickError(`Invalid ${what} ${JSON.stringify(duration)}: use milliseconds or a string like '3s', '5m', '1h', '2d'.`);
  }
  return Math.round(value);
}
