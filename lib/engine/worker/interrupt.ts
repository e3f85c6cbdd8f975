/** Why an execution stopped before the flow returned. */
export type Interrupt =
  /** `signals`: names of the signal waits that parked the run, so the runner can wake it if one arrived meanwhile. */
  | { kind: 'suspend'; wakeAt: number; signals?: string[] }
  | { kind: 'fatal'; error: Error; stepKey?: string }
  | { kind: 'lease-lost' }
  | { kind: 'infra'; error: Error }
  | { kind: 'released' };

// Higher ranks win: losing the lease outranks a shutdown, which outranks Redis
// trouble, which outranks a failure, which outranks a suspension.
const RANK: Record<Interrupt['kind'], number> = { suspend: 0, fatal: 1, infra: 2, released: 3, 'lease-lost': 4 };

/**
 * The interrupt that stands when `next` arrives while `current` is set: the
 * higher rank, and of two suspensions the earlier wake-up.
 */
export function mergeInterrupts(current: Interrupt | undefined, next: Interrupt): Interrupt {
  if (!current || RANK[next.kind] > RANK[current.kind]) return next;
  if (next.kind === 'suspend' && current.kind === 'suspend') {
    const merged: Interrupt = { kind: 'suspend', wakeAt: Math.min(current.wakeAt, next.wakeAt) };
    if (current.signals || next.signals) merged.signals = [...(current.signals ?? []), ...(next.signals ?? [])];
    return merged;
  }
  return current;
}

/** Stopped for a reason other than parking: nothing the execution writes may land any more. */
export function isHardStop(interrupt: Interrupt | undefined): boolean {
  return interrupt !== undefined && interrupt.kind !== 'suspend';
}
