import { parseSlotGroup } from '../concurrency';
import { CancelRequestedError, LeaseLostError } from '../errors';
import type { ConcurrencySlots, SlotHandOver, SlotTake } from '../ports';
import type { RunStatus } from '../../common/types';
import type { RedisClient } from './connection';
import { guarded } from './guarded';
import { RunKeys } from './keys';
import { TIMER_GRACE_MS } from './run-store';
import { defineScriptFiles } from './scripts';

const TAKE_REPLIES: Record<number, SlotTake> = { 1: 'taken', 0: 'full', 2: 'lined-up', 3: 'reserved' };

/** ConcurrencySlots on Redis: lua/slot-take-2, slot-free-2, slot-extend-1 per group, wait-for-slot-1 on the run. */
export class RedisConcurrencySlots implements ConcurrencySlots {
  private readonly redis: ReturnType<typeof defineScriptFiles<'slotTake' | 'slotFree' | 'slotExtend' | 'waitForSlot'>>;
  private readonly keys: RunKeys;

  constructor(client: RedisClient, prefix: string) {
    this.redis = defineScriptFiles(client, {
      slotTake: 'slot-take-2.lua',
      slotFree: 'slot-free-2.lua',
      slotExtend: 'slot-extend-1.lua',
      waitForSlot: 'wait-for-slot-1.lua',
    });
    this.keys = new RunKeys(prefix);
  }

  async take(groupId: string, token: string, runId: string, limit: number, leaseMs: number, mode: 'take' | 'join', place: number): Promise<SlotTake> {
    const { held, waiting } = this.groupKeys(groupId);
    const reply = (await guarded(this.redis.slotTake(held, waiting, token, runId, limit, leaseMs, mode, place))) as [number];
    return TAKE_REPLIES[reply[0]];
  }

  async park(runId: string, token: string, groupId: string): Promise<{ deadline?: number }> {
    const reply = await guarded(this.redis.waitForSlot(this.keys.run(runId), token, Date.now(), groupId));
    if (!Array.isArray(reply)) throw new LeaseLostError(runId);
    if (Number(reply[0]) === -2) throw new CancelRequestedError(runId, String(reply[1] ?? ''));
    return reply[1] === '' ? {} : { deadline: Number(reply[1]) };
  }

  waitTimer(runId: string, deadline: number | undefined): void {
    const timers = this.keys.timers();
    void (deadline === undefined ? this.redis.zrem(timers, runId) : this.redis.zadd(timers, deadline + TIMER_GRACE_MS, runId)).catch(() => undefined);
  }

  rearmTimer(runId: string, at: number): void {
    void this.redis.zadd(this.keys.timers(), at + TIMER_GRACE_MS, runId).catch(() => undefined);
  }

  async extend(groupId: string, token: string, leaseMs: number): Promise<boolean> {
    return (await guarded(this.redis.slotExtend(this.groupKeys(groupId).held, token, leaseMs))) === 1;
  }

  async free(groupId: string, token: string, runId: string, limit: number, leaseMs: number): Promise<SlotHandOver> {
    const { held, waiting } = this.groupKeys(groupId);
    const [handed, left, handovers, nextLapse] = (await guarded(this.redis.slotFree(held, waiting, token, runId, limit, leaseMs))) as [string[], number, string[], string | number];
    return { handed, waiting: Number(left), handovers, nextLapse: Number(nextLapse) };
  }

  async watch(groupId: string, at: number): Promise<void> {
    await guarded(this.redis.zadd(this.keys.slotGroups(), 'LT', at, groupId));
  }

  async dueGroups(now: number, limit: number): Promise<string[]> {
    return guarded(this.redis.zrangebyscore(this.keys.slotGroups(), '-inf', now, 'LIMIT', 0, limit));
  }

  async rewatch(groupId: string, at: number): Promise<void> {
    await guarded(this.redis.zadd(this.keys.slotGroups(), at, groupId));
  }

  async unwatch(groupId: string): Promise<void> {
    await guarded(this.redis.zrem(this.keys.slotGroups(), groupId));
  }

  async runStatus(runId: string): Promise<RunStatus | null> {
    return (await guarded(this.redis.hget(this.keys.run(runId), 'status'))) as RunStatus | null;
  }

  private groupKeys(groupId: string): { held: string; waiting: string } {
    const group = parseSlotGroup(groupId);
    if (!group) throw new Error(`Not a concurrency group: ${groupId}`);
    return this.keys.slots(group.flowId, group.key);
  }
}
