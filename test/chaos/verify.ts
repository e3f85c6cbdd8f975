import type { RunView } from '../../lib/engine';
import type { StepInterval, StepStart } from '../support/child-worker';

/** The chaos flow's input (see WORKER_FLOWS.chaos). */
export interface ChaosInput {
  napMs: number;
  parts: number;
  /** How long each step body lasts. */
  workMs: number;
}

/** What the soak knows about one run at the end. */
export interface RunEvidence {
  runId: string;
  input: ChaosInput;
  /** null: no record of the run at all. */
  view: RunView<ChaosInput, unknown> | null;
  /** Every step body begun, in tick order (one record per side effect). */
  starts: StepStart[];
  /** Every step body that ran to its end, in tick order. */
  intervals: StepInterval[];
}

/** worker incarnation name -> the tick taken just after it was SIGKILLed (so every tick of its own is below). */
export type Kills = ReadonlyMap<string, number>;

export interface Verdict {
  completed: number;
  failed: number;
  /** Runs with no record, or not finished when the drain ended. */
  lost: string[];
  /** Step bodies begun in all (side effects). */
  bodies: number;
  /** Side effects beyond those of an undisturbed run, per step: each must be the redo of a body a kill cut short. */
  repeated: number;
  /** Bodies begun on a worker that died before they ended. */
  cutShort: number;
  /** Step bodies of two different executions of one run that ran at the same time. */
  overlaps: number;
  executions: { total: number; max: number };
  /** Runs that needed more executions than an undisturbed run: a kill (or a lapsed lease) made another worker replay them. */
  takenOver: number;
  violations: string[];
}

/** Claims an undisturbed run makes: the first, one after the nap, one after flaky's backoff. */
export const EXECUTIONS_WITHOUT_KILLS = 3;

/**
 * Where each step stands in the flow's order. Bodies of one phase may run
 * together (the parts of the ctx.wait); a body of a later phase begins only
 * after every body of the earlier ones was recorded as done.
 */
function phaseOf(key: string): number {
  if (key === 'reserve') return 0;
  if (key === 'charge') return 1;
  if (key === 'flaky') return 2;
  if (key.startsWith('part:')) return 3;
  if (key === 'total') return 4;
  return -1;
}

/** Every step whose side effect a completed run must show. */
function expectedKeys(input: ChaosInput): string[] {
  return ['reserve', 'charge', 'flaky', ...Array.from({ length: input.parts }, (_, i) => `part:${i}`), 'total'];
}

/** flaky's first attempt fails by design: when its body ran to its end, the attempt after it is no redo. */
const failsByDesign = (start: StepStart, ended: boolean) => start.key === 'flaky' && start.attempt === 1 && ended;

function expectedOutput(runId: string, input: ChaosInput): unknown {
  return { ticket: `ticket-${runId}`, total: Array.from({ length: input.parts }, (_, i) => i * i).reduce((a, b) => a + b, 0) };
}

const show = (s: StepStart) => `${s.key}#${s.attempt} on ${s.worker} (${s.execution.split('/')[1]?.slice(0, 8)}) at tick ${s.start}`;

/**
 * The soak's verdict. A violation is anything the engine promises never to
 * do under SIGKILLs: lose a run, fail one that should pass, skip a side
 * effect, or repeat one that was not in flight on a worker when it was killed.
 */
export function verify(runs: readonly RunEvidence[], kills: Kills): Verdict {
  const verdict: Verdict = {
    completed: 0,
    failed: 0,
    lost: [],
    bodies: 0,
    repeated: 0,
    cutShort: 0,
    overlaps: 0,
    executions: { total: 0, max: 0 },
    takenOver: 0,
    violations: [],
  };
  const violation = (runId: string, what: string) => verdict.violations.push(`${runId}: ${what}`);

  for (const { runId, input, view, starts, intervals } of runs) {
    verdict.bodies += starts.length;
    if (!view) {
      verdict.lost.push(runId);
      violation(runId, 'lost: no record of the run');
      continue;
    }
    verdict.executions.total += view.executions;
    verdict.executions.max = Math.max(verdict.executions.max, view.executions);
    if (view.executions > EXECUTIONS_WITHOUT_KILLS) verdict.takenOver++;
    if (view.status === 'failed') {
      verdict.failed++;
      violation(runId, `failed: ${JSON.stringify(view.error)}`);
    } else if (view.status !== 'completed') {
      verdict.lost.push(runId);
      violation(runId, `lost: still ${view.status} after the drain`);
    } else {
      verdict.completed++;
      if (JSON.stringify(view.output) !== JSON.stringify(expectedOutput(runId, input))) {
        violation(runId, `wrong output ${JSON.stringify(view.output)}, expected ${JSON.stringify(expectedOutput(runId, input))}`);
      }
    }

    const byKey = new Map<string, StepStart[]>();
    for (const start of starts) byKey.set(start.key, [...(byKey.get(start.key) ?? []), start]);
    const expected = expectedKeys(input);
    for (const key of byKey.keys()) {
      if (!expected.includes(key)) violation(runId, `unexpected side effect of step ${key} (a step the flow does not have)`);
    }
    if (view.status === 'completed') {
      for (const key of expected) if (!byKey.has(key)) violation(runId, `side effect of step ${key} never happened, yet the run completed`);
    }

    // Bodies begun and never ended: only a killed worker may leave those, and only by dying in them.
    const ended = new Set(intervals.map((i) => `${i.execution}/${i.key}/${i.start}`));
    const hasEnded = (s: StepStart) => ended.has(`${s.execution}/${s.key}/${s.start}`);
    const unfinished = starts.filter((s) => !hasEnded(s));
    verdict.cutShort += unfinished.length;
    for (const s of unfinished) {
      const killedAt = kills.get(s.worker);
      if (killedAt === undefined || killedAt < s.start) violation(runId, `body ${show(s)} never ended, and its worker was not killed while in it`);
    }

    for (const [key, bodies] of byKey) {
      // An attempt a kill cut short is counted as failed by the run's next execution, so a redo carries the next
      // number; it keeps the same one only if the attempt's running marker never reached Redis. Never a lower one.
      for (let i = 1; i < bodies.length; i++) {
        if (bodies[i].attempt! < bodies[i - 1].attempt!) violation(runId, `${show(bodies[i])} came after ${show(bodies[i - 1])}: attempt numbers went back`);
      }
      // Every body but the last was lost to a kill (or is flaky's first, which fails by design): its worker died after
      // it began, and its execution had not got past this step (a later step begun would mean this one was recorded).
      for (const lost of bodies.slice(0, -1)) {
        if (failsByDesign(lost, hasEnded(lost))) continue;
        verdict.repeated++;
        const killedAt = kills.get(lost.worker);
        if (killedAt === undefined || killedAt < lost.start) {
          violation(runId, `${key} ran ${bodies.length} times; ${show(lost)} was redone though its worker was never killed after it began`);
          continue;
        }
        const later = starts.filter((s) => s.execution === lost.execution && phaseOf(s.key) > phaseOf(lost.key));
        if (later.length) violation(runId, `${key} ran ${bodies.length} times; ${show(lost)} was redone though its execution went on to ${show(later[0])}`);
      }
    }

    // Two executions of one run at once would mean a lease that did not hold. A body cut short counts as running until the kill.
    const spans = [...intervals, ...unfinished.map((s) => ({ ...s, end: kills.get(s.worker) ?? Number.MAX_SAFE_INTEGER }))];
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        const [a, b] = [spans[i], spans[j]];
        if (a.execution !== b.execution && a.start < b.end && b.start < a.end) {
          verdict.overlaps++;
          violation(runId, `two executions at once: ${show(a)}-${a.end} and ${show(b)}-${b.end}`);
        }
      }
    }
  }
  return verdict;
}
