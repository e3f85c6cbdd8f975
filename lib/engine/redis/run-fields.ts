import type { RunStatus } from '../../common/types';
import type { RunRecord, StepRecord } from '../ports';
import { STEP_FIELD } from './keys';
import { unpackStep } from './step-codec';

export function num(value: string | undefined | null): number | undefined {
  return value === undefined || value === null || value === '' ? undefined : Number(value);
}

export function toRun(runId: string, fields: Map<string, string>): RunRecord {
  const error = fields.get('error');
  return {
    runId,
    flowId: fields.get('flowId')!,
    status: fields.get('status') as RunStatus,
    input: fields.get('input'),
    output: fields.get('output'),
    error: error ? JSON.parse(error) : undefined,
    createdAt: Number(fields.get('createdAt')),
    updatedAt: Number(fields.get('updatedAt')),
    startedAt: num(fields.get('startedAt')),
    finishedAt: num(fields.get('finishedAt')),
    wakeAt: num(fields.get('wakeAt')),
    executions: Number(fields.get('executions') ?? 0),
    timeoutMs: num(fields.get('timeoutMs')),
    deadline: num(fields.get('deadline')),
    cancelRequested: fields.get('cancelRequested'),
    retries: num(fields.get('retries')),
    previousErrors: fields.has('previousErrors') ? JSON.parse(fields.get('previousErrors')!) : undefined,
    unknownFlowSince: num(fields.get('unknownFlowSince')),
    slotGroup: fields.get('slotGroup'),
    slotWaitAt: num(fields.get('slotWaitAt')),
    scheduleId: fields.get('scheduleId'),
    slotAt: num(fields.get('slotAt')),
    parentRunId: fields.get('parentRunId'),
    parentStepKey: fields.get('parentStep'),
    wakeParent: fields.get('wakeParent') === '1' ? true : undefined,
    traceparent: fields.get('traceparent'),
    lastTrace: fields.get('lastTrace'),
  };
}

/** Splits one run hash (as field/value pairs) into the run and its steps. */
export function splitRunHash(runId: string, pairs: Iterable<[string, string]>): { run: RunRecord; steps: Map<string, StepRecord> } {
  const fields = new Map<string, string>();
  const steps = new Map<string, StepRecord>();
  for (const [field, value] of pairs) {
    if (field.startsWith(STEP_FIELD)) steps.set(field.slice(STEP_FIELD.length), unpackStep(value));
    else fields.set(field, value);
  }
  return { run: toRun(runId, fields), steps };
}

export function* flatPairs(flat: string[]): Iterable<[string, string]> {
  for (let i = 0; i < flat.length; i += 2) yield [flat[i], flat[i + 1]];
}

