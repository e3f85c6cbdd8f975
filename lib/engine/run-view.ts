import { decode } from './codec';
import { parseSlotGroup } from './concurrency';
import { withoutStack } from './error-info';
import type { RunRecord, StepRecord } from './ports';
import type { RunSummary, RunView, SlotWait, StepView } from '../common/types';

/**
 * ISO time of a stored timestamp. Never throws: one record with a time no Date
 * can show (written before wake times were bounded, or by hand) must not break
 * a whole list; such a time is shown as its raw number instead.
 */
export function iso(ms: number | undefined): string | undefined {
  if (ms === undefined) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** Drops undefined fields so views print (and serialise) without noise. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

/**
 * The line a queued run waits in, from the two fields wait-for-slot-1 writes:
 * the mark (slotWaitAt) goes with the run's next claim or retry; slotGroup
 * stays for good, so it names the line only while the mark is there.
 */
function slotWait(run: RunRecord): SlotWait | undefined {
  if (run.status !== 'queued' || run.slotWaitAt === undefined || run.slotGroup === undefined) return undefined;
  const group = parseSlotGroup(run.slotGroup);
  return group && { key: group.key, since: iso(run.slotWaitAt)! };
}

export function toRunSummary(run: RunRecord): RunSummary {
  return compact({
    runId: run.runId,
    flowId: run.flowId,
    status: run.status,
    // Lists stay light: the stack is shown by the view of one run.
    error: run.error && withoutStack(run.error),
    createdAt: iso(run.createdAt)!,
    updatedAt: iso(run.updatedAt)!,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    wakeAt: iso(run.wakeAt),
    executions: run.executions,
    parentRunId: run.parentRunId,
    parentStepKey: run.parentStepKey,
    retries: run.retries,
    scheduleId: run.scheduleId,
    slotAt: iso(run.slotAt),
    previousErrors: run.previousErrors?.map(({ failedAt, ...error }) => compact({ ...withoutStack(error), failedAt: iso(failedAt) })),
    waitingForSlot: slotWait(run),
  });
}

function toStepView(key: string, step: StepRecord): StepView {
  return compact({
    key,
    kind: step.kind,
    status: step.status,
    attempts: step.attempts,
    result: decode(step.result),
    errors: step.errors?.map(({ at, startedAt, ...error }) => compact({ ...error, at: iso(at)!, startedAt: iso(startedAt) })),
    wakeAt: iso(step.wakeAt),
    finishedAt: iso(step.finishedAt),
    startedAt: iso(step.startedAt),
    node: step.node,
    waitingFor: step.waitingFor,
    waitGroup: step.waitGroup,
    childRunId: step.childRunId,
  });
}

export function toRunView(run: RunRecord, steps: Map<string, StepRecord>): RunView {
  const ordered = [...steps.entries()].sort(([, a], [, b]) => a.seq - b.seq);
  return compact({
    ...toRunSummary(run),
    error: run.error,
    input: decode(run.input),
    output: decode(run.output),
    steps: ordered.map(([key, step]) => toStepView(key, step)),
  });
}
