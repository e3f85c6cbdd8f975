import { isFinished } from '../../common/run-status';
import { parseSlotGroup, type ConcurrencyRule } from '../concurrency';
import type { ConcurrencySlots } from '../ports';
import type { ConcurrencyGate } from '../worker/concurrency-gate';
import { PeriodicLook } from './periodic-look';

const BATCH = 100;
/** How far the look at a group no node here can judge (its flow is unknown here) moves on. */
const RETRY_MS = 5000;
/** A limit no group reaches: the whole line is handed over. */
const UNLIMITED = 1_000_000_000;

/**
 * The safety net under concurrency hand-overs. A slot is handed on when its
 * execution gives it back; nobody gives back the slot of a worker that died,
 * nor starts a run whose hand-over job was lost with its node. Each group with
 * runs in line is in a registry, due when its held slots would have lapsed:
 * this look drops lapsed slots, puts lost hand-overs back in line, and hands
 * every free slot to the head of the line. Per group, never per waiting run.
 */
export class SlotReconciler extends PeriodicLook {
  protected readonly name = 'Concurrency slot look';

  constructor(
    private readonly slots: ConcurrencySlots,
    private readonly gate: ConcurrencyGate,
    private readonly rules: ReadonlyMap<string, ConcurrencyRule>,
    /** Whether this node has the flow (with or without a cap). */
    private readonly hasFlow: (flowId: string) => boolean,
    private readonly leaseMs: number,
  ) {
    super();
  }

  protected warn(message: string): void {
    this.gate.logger.warn(message);
  }

  /** One look at the due groups; returns how many runs were handed a slot. */
  protected async look(): Promise<number> {
    let handed = 0;
    const now = Date.now();
    for (const id of await this.slots.dueGroups(now, BATCH)) {
      const group = parseSlotGroup(id);
      if (!group) {
        await this.slots.unwatch(id);
        continue;
      }
      // The flow lost its cap in a deploy: its line is let go at once. A flow this node does not have
      // is left to a node that has it.
      const limit = this.rules.get(group.flowId)?.limit ?? (this.hasFlow(group.flowId) ? UNLIMITED : undefined);
      if (limit === undefined) {
        await this.slots.rewatch(id, now + RETRY_MS);
        continue;
      }
      let result = await this.slots.free(id, '', '', limit, this.leaseMs);
      await this.gate.handOver(group, result);
      handed += result.handed.length;
      // A hand-over whose run is gone or ended (cancelled or expired while in line) would hold its
      // slot until it lapses, then go back to the head of the line and be handed again: take it out.
      // One read per pending hand-over (at most the limit) per look.
      for (const runId of result.handovers) {
        const status = await this.slots.runStatus(runId);
        if (status !== null && !isFinished(status)) continue;
        result = await this.slots.free(id, '', runId, limit, this.leaseMs);
        await this.gate.handOver(group, result);
        handed += result.handed.length;
      }
      if (result.waiting + result.handovers.length === 0) {
        // Dropped, then looked at once more: a run that lined up meanwhile either shows in this
        // second look, or its own registry write (made after it lined up) comes after the drop.
        await this.slots.unwatch(id);
        result = await this.slots.free(id, '', '', limit, this.leaseMs);
        await this.gate.handOver(group, result);
        handed += result.handed.length;
        if (result.waiting + result.handovers.length === 0) continue;
      }
      await this.slots.rewatch(id, result.nextLapse > 0 ? result.nextLapse + 50 : now + this.leaseMs);
    }
    return handed;
  }
}
