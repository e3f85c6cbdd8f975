import { systemClock, type Clock } from '../clock';
import { slotGroup, type ConcurrencyRule, type SlotGroup } from '../concurrency';
import type { EngineLogger } from '../flow-definition';
import type { ConcurrencySlots, RunQueue, RunRecord } from '../ports';
import type { Lease } from './lease';

export interface ConcurrencyGateSettings {
  slots: ConcurrencySlots;
  queue: RunQueue;
  leaseMs: number;
  logger: EngineLogger;
  /** Where time is read (the slot timers, the hand-over jobs): the system clock, or a test's virtual one. */
  clock?: Clock;
}

/**
 * Where an execution of a flow with a concurrency cap takes its slot, right
 * after its claim, and gives it back when it ends or parks. Costs per
 * execution, never per step: one script to take the slot, one to give it back
 * (with the hand-over), one renewal per lease heartbeat.
 */
export class ConcurrencyGate {
  private readonly clock: Clock;

  constructor(private readonly settings: ConcurrencyGateSettings) {
    this.clock = settings.clock ?? systemClock;
  }

  /**
   * Takes a slot for the execution under `lease`; or, the group being full,
   * parks the run in the group's line (its job then ends) and returns undefined.
   * @throws ConcurrencyKeyError (the key function failed), LeaseLostError, CancelRequestedError (from the park)
   */
  async enter(flowId: string, rule: ConcurrencyRule, run: RunRecord, input: unknown, lease: Lease): Promise<HeldSlot | undefined> {
    const { slots, queue, leaseMs, logger } = this.settings;
    const group = slotGroup(flowId, rule.keyOf(input));
    const { runId } = run;
    if ((await slots.take(group.id, lease.token, runId, rule.limit, leaseMs, 'take', run.createdAt)) === 'taken') {
      if (run.slotGroup !== undefined) slots.rearmTimer(runId, this.clock.now() + leaseMs);
      return new HeldSlot(this, group, rule.limit, lease.token, runId);
    }
    // Parked before it lines up: a slot handed to a run still held by this execution would find it busy.
    const { deadline } = await slots.park(runId, lease.token, group.id);
    const joined = await slots.take(group.id, lease.token, runId, rule.limit, leaseMs, 'join', run.createdAt);
    // Only once it is in line: a run parked but not lined up (Redis failed in between) keeps its
    // timer, so the reconciler sends it round again.
    slots.waitTimer(runId, deadline);
    // After lining up (see SlotReconciler), the group's registry look: due when the slots held now
    // have surely lapsed, should their holders die.
    await slots.watch(group.id, this.clock.now() + leaseMs);
    // A slot freed between the two looks is reserved for this run: start it now.
    if (joined === 'reserved') await queue.enqueueResume(runId, this.clock.now());
    logger.debug?.(`Run "${runId}" of flow "${flowId}" waits for a concurrency slot${group.key ? ` (key "${group.key}")` : ''}: ${rule.limit} in use.`);
    return undefined;
  }

  /** Takes a run out of its group (it ended while in line or with a slot handed to it), handing on what it held. */
  async leave(group: SlotGroup, limit: number, runId: string): Promise<void> {
    await this.handOver(group, await this.settings.slots.free(group.id, '', runId, limit, this.settings.leaseMs));
  }

  /** Gives back the execution's slot and starts the runs it is handed to. */
  async release(group: SlotGroup, limit: number, token: string): Promise<void> {
    await this.handOver(group, await this.settings.slots.free(group.id, token, '', limit, this.settings.leaseMs));
  }

  extend(group: SlotGroup, token: string): Promise<boolean> {
    return this.settings.slots.extend(group.id, token, this.settings.leaseMs);
  }

  get leaseMs(): number {
    return this.settings.leaseMs;
  }

  get logger(): EngineLogger {
    return this.settings.logger;
  }

  /**
   * Adds the job that starts each run handed a slot: an immediate resume, taken
   * before new runs. Lost (this node dies first), the hand-over lapses after a
   * lease and the group's registry look hands the slot again.
   */
  async handOver(group: SlotGroup, result: { handed: string[] }): Promise<void> {
    const now = this.clock.now();
    await Promise.all(result.handed.map((runId) => this.settings.queue.enqueueResume(runId, now)));
    if (result.handed.length) this.settings.logger.debug?.(`Handed ${result.handed.length} concurrency slot(s) of flow "${group.flowId}" to waiting runs.`);
  }
}

/** An execution's concurrency slot: renewed with its lease, given back once. */
export class HeldSlot {
  private heartbeat?: NodeJS.Timeout;
  private freed = false;

  constructor(
    private readonly gate: ConcurrencyGate,
    readonly group: SlotGroup,
    private readonly limit: number,
    private readonly token: string,
    private readonly runId: string,
  ) {}

  /** Renews the slot a third of a lease apart, as the lease is; `onLost` hears that it lapsed and is gone. */
  startHeartbeat(onLost: () => void): void {
    this.heartbeat = setInterval(() => {
      this.gate.extend(this.group, this.token).then(
        (held) => {
          if (!held && !this.freed) onLost();
        },
        // A failed renewal is retried by the next beat; the lease's own heartbeat reports Redis trouble.
        () => undefined,
      );
    }, Math.max(100, Math.floor(this.gate.leaseMs / 3)));
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
  }

  /** Gives the slot back and hands it on; on failure it lapses with the lease (logged, not thrown). */
  async free(): Promise<void> {
    this.stopHeartbeat();
    if (this.freed) return;
    this.freed = true;
    try {
      await this.gate.release(this.group, this.limit, this.token);
    } catch (err) {
      this.gate.logger.warn(
        `Run "${this.runId}" of flow "${this.group.flowId}": giving back its concurrency slot failed (${(err as Error).message}); it frees when the lease lapses.`,
      );
    }
  }
}
