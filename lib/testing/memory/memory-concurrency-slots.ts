import type { Clock } from '../../engine/clock';
import { CancelRequestedError, LeaseLostError } from '../../engine/errors';
import type { ConcurrencySlots, SlotHandOver, SlotTake } from '../../engine/ports';
import type { RunStatus } from '../../common/types';
import type { MemoryDb } from './memory-db';

/** As the Redis store: how late past its due time a run may be before the reconciler steps in. */
const TIMER_GRACE_MS = 5000;

/** One group's two sorted sets, as slot-take-2 and slot-free-2 keep them. */
interface Group {
  /** Held slots (a lease token, or 'r:<runId>' for a hand-over) -> when each lapses. */
  held: Map<string, number>;
  /** Runs in line -> their place (creation time; 0 puts a lapsed hand-over first). */
  waiting: Map<string, number>;
}

/** ZSET order: by score, then by member. */
const byScore = (a: [string, number], b: [string, number]) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/**
 * ConcurrencySlots in memory: each method is its Lua script done
 * synchronously (so atomically), on the backend's clock instead of Redis
 * TIME. Nothing here dies, so no slot reconciler runs on memory: every
 * slot is given back and every hand-over's job is added and taken.
 */
export class MemoryConcurrencySlots implements ConcurrencySlots {
  private readonly groups = new Map<string, Group>();
  /** The registry of groups to look at (the reconciler's), by when. */
  private readonly watched = new Map<string, number>();

  constructor(
    private readonly db: MemoryDb,
    private readonly clock: Clock,
  ) {}

  async take(groupId: string, token: string, runId: string, limit: number, leaseMs: number, mode: 'take' | 'join', place: number): Promise<SlotTake> {
    const { held, waiting } = this.group(groupId);
    const now = this.clock.now();
    const lapse = now + leaseMs;
    const handover = `r:${runId}`;
    const take = mode === 'take';
    if (take && held.has(token)) {
      held.set(token, lapse);
      return 'taken';
    }
    if ((held.get(handover) ?? 0) > now) {
      if (!take) return 'reserved';
      held.delete(handover);
      held.set(token, lapse);
      waiting.delete(runId);
      return 'taken';
    }
    this.dropLapsed(held, waiting, now);
    if (held.size < limit) {
      waiting.delete(runId);
      if (take) {
        held.set(token, lapse);
        return 'taken';
      }
      held.set(handover, lapse);
      return 'reserved';
    }
    if (take) return 'full';
    if (!waiting.has(runId)) waiting.set(runId, place);
    return 'lined-up';
  }

  async park(runId: string, token: string, groupId: string): Promise<{ deadline?: number }> {
    const hash = this.db.run(runId);
    if (!hash || hash.get('lease') !== token) throw new LeaseLostError(runId);
    const cancelRequested = hash.get('cancelRequested');
    if (cancelRequested !== undefined) throw new CancelRequestedError(runId, cancelRequested);
    const now = String(this.clock.now());
    hash.set('status', 'queued').set('updatedAt', now).set('slotGroup', groupId).set('slotWaitAt', now);
    hash.delete('lease');
    hash.delete('leaseUntil');
    const executions = Number(hash.get('executions') ?? 0) - 1;
    hash.set('executions', String(executions));
    if (executions <= 0) {
      hash.delete('startedAt');
      hash.delete('deadline');
    }
    const deadline = hash.get('deadline');
    return deadline === undefined ? {} : { deadline: Number(deadline) };
  }

  waitTimer(runId: string, deadline: number | undefined): void {
    // Only the record Redis keeps: no reconciler reads it here, and none is needed, because the virtual
    // clock moves only once the engine is idle, when every line has drained (a deadline cannot pass in line).
    if (deadline === undefined) this.db.timers.delete(runId);
    else this.db.timers.set(runId, deadline + TIMER_GRACE_MS);
  }

  rearmTimer(runId: string, at: number): void {
    this.db.timers.set(runId, at + TIMER_GRACE_MS);
  }

  async extend(groupId: string, token: string, leaseMs: number): Promise<boolean> {
    const { held } = this.group(groupId);
    if (!held.has(token)) return false;
    held.set(token, this.clock.now() + leaseMs);
    return true;
  }

  async free(groupId: string, token: string, runId: string, limit: number, leaseMs: number): Promise<SlotHandOver> {
    const { held, waiting } = this.group(groupId);
    const now = this.clock.now();
    if (token !== '') held.delete(token);
    if (runId !== '') {
      held.delete(`r:${runId}`);
      waiting.delete(runId);
    }
    this.dropLapsed(held, waiting, now);
    const handed: string[] = [];
    let free = limit - held.size;
    while (free > 0 && waiting.size > 0) {
      const [head] = [...waiting].sort(byScore)[0];
      waiting.delete(head);
      held.set(`r:${head}`, now + leaseMs);
      handed.push(head);
      free--;
    }
    const sorted = [...held].sort(byScore);
    const handovers = sorted.filter(([member]) => member.startsWith('r:')).map(([member]) => member.slice(2));
    return { handed, waiting: waiting.size, handovers, nextLapse: sorted[0]?.[1] ?? 0 };
  }

  async watch(groupId: string, at: number): Promise<void> {
    const current = this.watched.get(groupId);
    if (current === undefined || at < current) this.watched.set(groupId, at);
  }

  async dueGroups(now: number, limit: number): Promise<string[]> {
    return [...this.watched]
      .filter(([, at]) => at <= now)
      .sort(byScore)
      .slice(0, limit)
      .map(([id]) => id);
  }

  async rewatch(groupId: string, at: number): Promise<void> {
    this.watched.set(groupId, at);
  }

  async unwatch(groupId: string): Promise<void> {
    this.watched.delete(groupId);
  }

  async runStatus(runId: string): Promise<RunStatus | null> {
    return (this.db.run(runId)?.get('status') as RunStatus | undefined) ?? null;
  }

  private group(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) this.groups.set(groupId, (group = { held: new Map(), waiting: new Map() }));
    return group;
  }

  /** A lapsed token is a dead execution's slot; a lapsed hand-over goes back to the head of the line. */
  private dropLapsed(held: Map<string, number>, waiting: Map<string, number>, now: number): void {
    for (const [member, lapse] of held) {
      if (lapse > now) continue;
      held.delete(member);
      if (member.startsWith('r:')) waiting.set(member.slice(2), 0);
    }
  }
}
