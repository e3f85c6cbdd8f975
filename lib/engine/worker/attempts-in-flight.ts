import type { StepRecord, StepRewind, StepWrite } from '../ports';
import type { InFlightMarkers } from './lease';

/**
 * The step attempts an execution has in flight, by step key: the running
 * marker (in Redis once the heartbeat or an eager mark wrote it), or the retry
 * deferred after a counted loss. Rewound if the run ends or is handed back
 * under them. Kept in memory: the normal step path sends nothing for them.
 */
export class AttemptsInFlight implements InFlightMarkers {
  private readonly begun = new Map<string, StepRecord>();
  /** Markers already sent (by identity: a new attempt is a new record, unsent). */
  private readonly marked = new WeakSet<StepRecord>();

  /** Keeps `record` as the step's attempt in flight; `sent` when its marker is written right away. */
  begin(key: string, record: StepRecord, sent = false): void {
    this.begun.set(key, record);
    if (sent) this.marked.add(record);
  }

  /** The step's outcome is being written: nothing of it is in flight any more. */
  end(key: string): void {
    this.begun.delete(key);
  }

  /** The running markers the next heartbeat carries (not in Redis yet); from now on counted as written. */
  markersDue(): StepWrite[] {
    const due: StepWrite[] = [];
    for (const [key, step] of this.begun) {
      if (step.status !== 'running' || this.marked.has(step)) continue;
      this.marked.add(step);
      due.push([key, step]);
    }
    return due;
  }

  /** Markers whose renewal failed: due again at the next one. */
  markersUnsent(markers: readonly StepWrite[]): void {
    for (const [, step] of markers) this.marked.delete(step);
  }

  /**
   * What puts the steps of the attempts still in flight back as they were
   * before those attempts (each a retry due now, with its earlier attempts and
   * errors; deleted if it was the first): written when the run is handed back,
   * so the next execution does not count a stopped attempt as lost, or ends
   * (cancel, timeout, failure) under them, so it shows no step "running".
   */
  rewinds(): StepRewind[] {
    return [...this.begun].map(([key, step]): StepRewind => {
      if (step.status !== 'running') return [key, step];
      if (step.attempts <= 1 && !step.errors) return [key, null];
      const notBegun: StepRecord = { kind: step.kind, status: 'retrying', attempts: step.attempts - 1, seq: step.seq, wakeAt: step.startedAt };
      if (step.errors) notBegun.errors = step.errors;
      return [key, notBegun];
    });
  }
}
