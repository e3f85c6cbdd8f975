/**
 * Every Redis key the store uses, built in one place. A run's two keys share
 * the hash tag {runId}, so each run's scripts touch a single Cluster slot.
 */
export class RunKeys {
  constructor(private readonly prefix: string) {}

  run(runId: string): string {
    return `${this.prefix}:run:{${runId}}`;
  }

  steps(runId: string): string {
    return `${this.prefix}:run:{${runId}}:steps`;
  }

  /** Every run, scored by creation time: the index behind listRuns. */
  allRuns(): string {
    return `${this.prefix}:runs`;
  }

  flowRuns(flowId: string): string {
    return `${this.prefix}:flow:${flowId}:runs`;
  }
}
