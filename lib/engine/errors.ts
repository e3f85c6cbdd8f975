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
