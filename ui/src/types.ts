// The API's own types, imported from the library so the page cannot drift from it (type-only: nothing of lib is bundled).
import type { RunCounts, RunPage, RunStatus, RunSummary, RunView, SlotWait, StepErrorView, StepStatus, StepView } from '../../lib/common/types';

export type { RunCounts, RunPage, RunStatus, RunSummary, SlotWait, StepErrorView, StepStatus };

/** Fields other parts of the API add (child runs, schedules): shown when present. */
export interface Step extends StepView {
  childRunId?: string;
}

export interface Run extends Omit<RunView, 'steps'> {
  steps: Step[];
  parentRunId?: string;
  scheduleId?: string;
}

export interface Schedule {
  scheduleId?: string;
  id?: string;
  flowId: string;
  cron?: string;
  every?: string;
  tz?: string;
  nextAt?: string;
  [field: string]: unknown;
}

export const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'sleeping', 'completed', 'failed', 'cancelled'];
export const LIVE: ReadonlySet<string> = new Set(['queued', 'running', 'sleeping']);

/** The line a run waits in, in words: its concurrency key, or the whole flow for a cap without a key. */
export function slotLabel(slot: SlotWait): string {
  return slot.key === '' ? 'flow-wide cap' : `key: ${slot.key}`;
}
