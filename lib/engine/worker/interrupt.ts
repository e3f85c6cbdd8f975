/** Why an execution stopped before the flow returned. */
export type Interrupt =
  /**
   * `signals`: names of the signal waits that parked the run, `children`: the child runs it waits for,
   * so the runner can wake it if a signal arrived or a child ended meanwhile.
   */
  | { kind: 'suspend'; wakeAt: number; signals?: string[]; children?: string[] }
  | { kind: 'fatal'; error: Error; stepKey?: string }
  /** Past the run's whole-run deadline: fail it with FlowTimeoutError. */
  | { kind: 'timeout'; error: Error }
  /** A cancel was requested: end the run cancelled. */
  | { kind: 'cancelled'; reason: string }
  | { kind: 'lease-lost' }
  | { kind: 'infra'; error: Error }
  | { kind: 'released' };

// Higher ranks win: losing the lease outranks a shutdown (the hand-back leaves
// a cancel request for the next claim), which outranks a cancel (acknowledged
// to a caller, it beats any other ending), which outranks Redis trouble, which
// outranks the whole-run timeout, which outranks a failure, which outranks a suspension.
const RANK: Record<Interrupt['kind'], number> = { suspend: 0, fatal: 1, timeout: 2, infra: 3, cancelled: 4, released: 5, 'lease-lost': 6 };

/**
 * The interrupt that stands when `next` arrives while `current` is set: the
 * higher rank, and of two suspensions the earlier wake-up.
 */
export function mergeInterrupts(current: Interrupt | undefined, next: Interrupt): Interrupt {
  if (!current || RANK[next.kind] > RANK[current.kind]) return next;
  if (next.kind === 'suspend' && current.kind === 'suspend') {
    const merged: Interrupt = { kind: 'suspend', wakeAt: Math.min(current.wakeAt, next.wakeAt) };
    if (current.signals || next.signals) merged.signals = [...(current.signals ?? []), ...(next.signals ?? [])];
    if (current.children || next.children) merged.children = [...(current.children ?? []), ...(next.children ?? [])];
    return merged;
  }
  return current;
}

/** Stopped for a reason other than parking: nothing the execution writes may land any more. */
export function isHardStop(interrupt: Interrupt | undefined): boolean {
  return interrupt !== undefined && interrupt.kind !== 'suspend';
}
