import { GoTickError } from '../common/errors';

/**
 * Internal: another execution holds the run now (our lease expired). The
 * current execution must stop writing; it is not a failure of the run.
 */
export class LeaseLostError extends GoTickError {
  constructor(runId: string) {
    super(`Lease on run "${runId}" was lost to another execution; this execution stops.`);
  }
}

/**
 * Internal: a write of the execution was refused because a cancel was
 * requested for its run. The execution stops and ends the run cancelled.
 */
export class CancelRequestedError extends GoTickError {
  constructor(runId: string, readonly reason: string) {
    super(`Run "${runId}" has a cancel request; this execution stops.`);
  }
}
