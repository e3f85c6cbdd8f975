/**
 * Every Redis key the store uses, built in one place. A run is one hash
 * (its fields and, as 's:<key>', its steps) tagged {runId}, so each run's
 * scripts touch a single Cluster slot.
 */
export class RunKeys {
  constructor(private readonly prefix: string) {}

  run(runId: string): string {
    return `${this.prefix}:run:{${runId}}`;
  }

  /** The run's signal mailbox (a hash), in the run's slot so one script can read both. */
  mailbox(runId: string): string {
    return `${this.prefix}:mailbox:{${runId}}`;
  }

  /** Every live run, scored by when a worker must have picked it up: the reconciler's to-do list. */
  timers(): string {
    return `${this.prefix}:timers`;
  }

  /** The runs of one flow, scored by creation time: the index behind listRuns. */
  flowRuns(flowId: string): string {
    return `${this.prefix}:flow:${flowId}:runs`;
  }

  /** What every schedule did (one hash: `last:<id>`, `skipped:<id>`, `skippedAt:<id>`), so listing them is one read. */
  schedules(): string {
    return `${this.prefix}:schedules`;
  }

  /** Ids of the schedules declared by @Flow decorators, so a bootstrap can remove those no longer in code. */
  codeSchedules(): string {
    return `${this.prefix}:schedules:code`;
  }
}

/** Steps share the run's hash under this field prefix; no run field starts with it. */
export const STEP_FIELD = 's:';
