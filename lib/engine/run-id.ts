/** What a run id may be: it is part of Redis keys and queue job ids. */
export const RUN_ID = /^[A-Za-z0-9_.-]{1,200}$/;

/** True for a string that can be a run id. */
export function isRunId(runId: unknown): runId is string {
  return typeof runId === 'string' && RUN_ID.test(runId);
}
