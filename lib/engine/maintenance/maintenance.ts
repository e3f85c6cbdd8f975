import type { ConcurrencyRule } from '../concurrency';
import type { EngineLogger } from '../flow-definition';
import type { ConcurrencySlots, RunQueue, RunStore, WakeQueue, WakeStore } from '../ports';
import { ConcurrencyGate } from '../worker/concurrency-gate';
import { IndexSweeper } from './index-sweeper';
import { Reconciler } from './reconciler';
import { SlotReconciler } from './slot-reconciler';
import { TimerPump } from './timer-pump';

export interface MaintenanceParts {
  store: RunStore & WakeStore;
  queue: RunQueue & WakeQueue;
  slots: ConcurrencySlots;
  rules: ReadonlyMap<string, ConcurrencyRule>;
  hasFlow(flowId: string): boolean;
  flowIds(): string[];
  leaseMs: number;
  retentionMs: number;
  logger: EngineLogger;
  /** The reconciler timer a wake-up claimed by the pump gets (see TimerPump). */
  timerGraceMs: number;
}

/**
 * The looks a Redis worker node keeps up beside its executions: the timer
 * pump moves due wake-ups into the queue, the reconciler re-enqueues runs
 * whose job was lost, the index sweeper drops entries of expired runs, and
 * the slot reconciler frees the concurrency slots of dead workers.
 */
export class Maintenance {
  readonly timerPump: TimerPump;
  private readonly sweeper: IndexSweeper;
  private readonly reconciler: Reconciler;
  private readonly slotReconciler: SlotReconciler;

  constructor(private readonly parts: MaintenanceParts) {
    const { store, queue, slots, rules, logger, leaseMs } = parts;
    this.timerPump = new TimerPump(store, queue, logger, parts.timerGraceMs);
    this.sweeper = new IndexSweeper(store, () => parts.flowIds(), parts.retentionMs, logger);
    this.reconciler = new Reconciler(store, queue, logger);
    // A gate of its own to hand slots on with: a gate holds nothing but its settings, the executor's has the same.
    const gate = new ConcurrencyGate({ slots, queue, leaseMs, logger });
    this.slotReconciler = new SlotReconciler(slots, gate, rules, (flowId) => parts.hasFlow(flowId), leaseMs);
  }

  start(): void {
    const { leaseMs } = this.parts;
    this.timerPump.start();
    this.sweeper.start();
    // Often enough that a lost job or slot costs about a lease, never more often than a few times a second.
    this.reconciler.start(Math.min(Math.max(leaseMs / 2, 500), 5000));
    this.slotReconciler.start(Math.min(Math.max(leaseMs / 4, 250), 5000));
  }

  stop(): void {
    this.sweeper.stop();
    this.reconciler.stop();
    this.slotReconciler.stop();
    this.timerPump.stop();
  }
}
