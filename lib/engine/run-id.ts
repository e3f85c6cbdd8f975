import { createHash } from 'node:crypto';

/** What a run id may be: it is part of Redis keys and queue job ids. */
export const RUN_ID = /^[A-Za-z0-9_.-]{1,200}$/;

/** True for a string that can be a run id. */
export function isRunId(runId: unknown): runId is string {
  return typeof runId === 'string' && RUN_ID.test(runId);
}

/**
 * The run id of the child a run starts at step `key`: the same for every
 * execution and replay of the parent, so creating it is idempotent. Hashed,
 * since the parent id and the key together may be too long or hold any character.
 */
export function childRunIdOf(parentRunId: string, stepKey: string): string {
  return `c-${createHash('sha256').update(parentRunId).update('\u0000').update(stepKey).digest('base64url').slice(0, 24)}`;
}
