import type { Step } from '../types';

/** One stretch of a step's bar: an attempt, a backoff, a sleep or a signal wait. */
export interface Segment {
  from: number;
  to: number;
  kind: 'attempt' | 'failed' | 'backoff' | 'sleep' | 'wait' | 'point';
  /** Shown on hover and read by screen readers. */
  label: string;
  /** Still going: its end is "now". */
  open?: boolean;
}

export type Row = { type: 'group'; group: number; size: number } | { type: 'step'; step: Step; index: number };

const ms = (iso?: string) => (iso ? Date.parse(iso) : NaN);
const ok = (n: number) => Number.isFinite(n);

/** The stretches of one step, oldest first: failed attempts with the backoffs between them, then the last attempt or the wait. */
export function segmentsOf(step: Step, now: number): Segment[] {
  const out: Segment[] = [];
  const errors = step.errors ?? [];
  errors.forEach((error, i) => {
    const began = ms(error.startedAt);
    const failedAt = ms(error.at);
    if (ok(began) && ok(failedAt)) out.push({ from: began, to: failedAt, kind: 'failed', label: `attempt ${error.attempt} failed: ${error.name}: ${error.message}` });
    else if (ok(failedAt)) out.push({ from: failedAt, to: failedAt, kind: 'failed', label: `attempt ${error.attempt} failed: ${error.name}: ${error.message}` });
    const next = i + 1 < errors.length ? ms(errors[i + 1].startedAt) : step.status === 'retrying' ? ms(step.wakeAt) : ms(step.startedAt);
    if (ok(failedAt) && ok(next) && next > failedAt) {
      out.push({ from: failedAt, to: next, kind: 'backoff', label: `backoff before attempt ${error.attempt + 1}`, open: step.status === 'retrying' && i === errors.length - 1 });
    }
  });
  const start = ms(step.startedAt);
  const end = ms(step.finishedAt);
  if (step.kind === 'sleep') {
    const wake = ms(step.wakeAt);
    const to = ok(end) ? end : ok(wake) ? wake : now;
    if (ok(start)) out.push({ from: start, to, kind: 'sleep', label: `sleep until ${step.wakeAt ?? '?'}`, open: step.status === 'sleeping' });
    else if (ok(to)) out.push({ from: to, to, kind: 'point', label: `sleep until ${step.wakeAt ?? '?'}` });
    return out;
  }
  if (step.kind === 'signal') {
    const to = ok(end) ? end : now;
    const what = step.waitingFor ? `waiting for signal "${step.waitingFor}"` : 'signal wait';
    if (ok(start)) out.push({ from: start, to, kind: 'wait', label: what, open: step.status === 'waiting' });
    else if (ok(end)) out.push({ from: end, to: end, kind: 'point', label: 'signal received' });
    return out;
  }
  if (step.status === 'running' && ok(start)) out.push({ from: start, to: now, kind: 'attempt', label: `attempt ${step.attempts} running`, open: true });
  // A failed step's last attempt is its last error, drawn above.
  else if (step.status === 'completed' && ok(start) && ok(end)) out.push({ from: start, to: end, kind: 'attempt', label: `attempt ${step.attempts} completed` });
  else if (step.status === 'completed' && ok(end)) out.push({ from: end, to: end, kind: 'point', label: 'completed' });
  return out;
}

/** Steps in run order, each run of steps that shared a ctx.wait introduced by a header row. */
export function rowsOf(steps: Step[]): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < steps.length; i++) {
    const group = steps[i].waitGroup;
    if (group !== undefined && steps[i - 1]?.waitGroup !== group) {
      let size = 0;
      while (steps[i + size]?.waitGroup === group) size++;
      rows.push({ type: 'group', group, size });
    }
    rows.push({ type: 'step', step: steps[i], index: i });
  }
  return rows;
}

/** The time span the bars are drawn over. */
export function spanOf(runStart: number, runEnd: number, steps: Step[], now: number): [number, number] {
  let from = runStart;
  let to = runEnd;
  for (const step of steps) {
    for (const segment of segmentsOf(step, now)) {
      if (segment.from < from) from = segment.from;
      if (segment.to > to) to = segment.to;
    }
  }
  return [from, Math.max(to, from + 1)];
}

/** A short note that says, in words, what the bar shows. */
export function noteOf(step: Step): string {
  const retries = (step.errors?.length ?? 0) - (step.status === 'failed' ? 1 : 0);
  const parts: string[] = [];
  if (step.kind === 'sleep') parts.push(step.status === 'sleeping' ? `☾ sleeping until ${new Date(step.wakeAt!).toLocaleTimeString()}` : '☾ slept');
  if (step.kind === 'signal') parts.push(step.status === 'waiting' ? `✉ waiting for "${step.waitingFor}"` : '✉ signal wait');
  if (step.childRunId) parts.push('child run');
  if (retries > 0) parts.push(`↻ ${retries} retr${retries === 1 ? 'y' : 'ies'}`);
  if (step.status === 'retrying' && step.wakeAt) parts.push(`backoff until ${new Date(step.wakeAt).toLocaleTimeString()}`);
  if (step.attempts > 1 && !retries) parts.push(`${step.attempts} attempts`);
  return parts.join(' · ');
}
