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

  /**
   * A concurrency group's held slots and its waiting line, tagged by the group so both share one
   * Cluster slot (flow id and key are URI-encoded: no brace or '|' of theirs can move the tag).
   */
  slots(flowId: string, key: string): { held: string; waiting: string } {
    const tag = `{${encodeURIComponent(flowId)}${key === '' ? '' : '|' + encodeURIComponent(key)}}`;
    return { held: `${this.prefix}:slots:${tag}:held`, waiting: `${this.prefix}:slots:${tag}:waiting` };
  }

  /** Concurrency groups with runs waiting, scored by when the reconciler must look at them. */
  slotGroups(): string {
    return `${this.prefix}:slot-groups`;
  }

  /**
   * Sleeping runs by wake time, for the timer pump: scored wakeAt * 1000 + the
   * run's executions modulo 1000 (which names the wake-up's job, see
   * RunQueue.wakeJobId). In the timers key's Cluster slot, so one script moves
   * a due entry from here to there: the prefix's own hash tag when it has one,
   * else the timers key's whole name as the tag.
   */
  wakes(): string {
    const timers = this.timers();
    return hasHashTag(timers) ? `${this.prefix}:wakes` : `{${timers}}:wakes`;
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

/** Redis' rule: the first '{' and the first '}' after it enclose a non-empty tag. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  return open >= 0 && key.indexOf('}', open + 1) > open + 1;
}

/** Steps share the run's hash under this field prefix; no run field starts with it. */
export const STEP_FIELD = 's:';
