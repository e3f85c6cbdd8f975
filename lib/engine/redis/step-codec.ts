import type { StepRecord } from '../ports';
import type { StepKind, StepStatus } from '../../common/types';

// Step records are stored as short positional arrays with one-letter codes.
// Redis keeps a hash in its compact listpack encoding only while every value
// is under 64 bytes (hash-max-listpack-value); named-field JSON of a step is
// about 85 bytes and pushed every run hash into the larger hashtable encoding.
// An absent field before the last present one is written as 0 (null costs
// three bytes more): that keeps a running step's marker, whose startedAt and
// node come last, within the 64 bytes. No timestamp, payload or name is 0.
// A finished step's startedAt is stored relative to its finishedAt, as
// -(finishedAt - startedAt) - 1 (always negative, so it cannot be taken for
// an absolute time; clocks of two nodes that disagree are clamped to 0 ms):
// a few bytes instead of thirteen, for the dashboard's
// timeline. The wait group (the n-th ctx.wait of the run, from 1) and a child
// step's child run id come last.
const KIND: Record<StepKind, string> = { task: 't', memo: 'm', status: 'u', sleep: 'z', array: 'a', async: 'y', signal: 'n', child: 'h' };
const STATUS: Record<StepStatus, string> = { completed: 'c', failed: 'f', retrying: 'r', sleeping: 's', running: 'g', waiting: 'w' };
const invert = <K extends string>(codes: Record<K, string>) =>
  Object.fromEntries(Object.entries(codes).map(([name, code]) => [code, name])) as Record<string, K>;
const KIND_OF = invert(KIND);
const STATUS_OF = invert(STATUS);

type Packed = [
  kind: string,
  status: string,
  attempts: number,
  seq: number,
  finishedAt?: number | 0 | null,
  wakeAt?: number | 0 | null,
  result?: string | 0 | null,
  errors?: StepRecord['errors'] | 0 | null,
  startedAt?: number | 0 | null,
  node?: string | 0 | null,
  waitingFor?: string | 0 | null,
  waitGroup?: number | 0 | null,
  childRunId?: string | 0 | null,
];

export function packStep(step: StepRecord): string {
  const packed: Packed = [
    KIND[step.kind],
    STATUS[step.status],
    step.attempts,
    step.seq,
    step.finishedAt ?? null,
    step.wakeAt ?? null,
    step.result ?? null,
    step.errors ?? null,
    step.startedAt === undefined ? null : step.finishedAt === undefined ? step.startedAt : Math.min(step.startedAt - step.finishedAt, 0) - 1,
    step.node ?? null,
    step.waitingFor ?? null,
    step.waitGroup ?? null,
    step.childRunId ?? null,
  ];
  while (packed.length > 4 && packed[packed.length - 1] === null) packed.pop();
  for (let i = 4; i < packed.length; i++) if (packed[i] === null) packed[i] = 0;
  return JSON.stringify(packed);
}

export function unpackStep(text: string): StepRecord {
  const [kind, status, attempts, seq, finishedAt, wakeAt, result, errors, startedAt, node, waitingFor, waitGroup, childRunId] = JSON.parse(text) as Packed;
  const step: StepRecord = { kind: KIND_OF[kind], status: STATUS_OF[status], attempts, seq };
  // Absent is null (older records) or 0.
  if (finishedAt) step.finishedAt = finishedAt;
  if (wakeAt) step.wakeAt = wakeAt;
  if (result) step.result = result;
  if (errors) step.errors = errors;
  if (startedAt) step.startedAt = startedAt < 0 && finishedAt ? finishedAt + startedAt + 1 : startedAt;
  if (node) step.node = node;
  if (waitingFor) step.waitingFor = waitingFor;
  if (waitGroup) step.waitGroup = waitGroup;
  if (childRunId) step.childRunId = childRunId;
  return step;
}
