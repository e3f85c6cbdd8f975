import { randomBytes } from 'node:crypto';

/** Random per process, so ids made by different nodes never meet. */
const NODE = randomBytes(6).toString('base64url');
let next = 0;

/**
 * An id unique to one call (a trigger, a batch): this process's random prefix
 * and a counter. It tells a resent script from a second call, so it must be
 * unique, not secret; drawing random bytes per trigger showed in profiles.
 */
export function requestId(): string {
  return NODE + (next++).toString(36);
}
