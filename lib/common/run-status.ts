import type { RunStatus } from './types';

const FINISHED: ReadonlySet<string> = new Set<RunStatus>(['completed', 'failed', 'cancelled']);

/** A run in one of these states never changes again (except through retry). */
export function isFinished(status: string | null | undefined): status is 'completed' | 'failed' | 'cancelled' {
  return status != null && FINISHED.has(status);
}
