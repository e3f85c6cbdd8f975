import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScheduleStore } from '../ports';
import type { RedisClient } from './connection';
import { guarded } from './guarded';
import { RunKeys } from './keys';

type Client = RedisClient & { scheduleRun(key: string, scheduleId: string, slotAt: number, runId: string): Promise<number> };

const SCRIPT = readFileSync(join(__dirname, 'lua', 'schedule-run-1.lua'), 'utf8');

function parseLast(value: string | null | undefined): { runId: string; slotAt: number } | undefined {
  if (!value) return undefined;
  const colon = value.indexOf(':');
  return { slotAt: Number(value.slice(0, colon)), runId: value.slice(colon + 1) };
}

/**
 * What schedules did, on Redis: one hash for every schedule's latest run and
 * skip count (a list is one HMGET), and a set of the ids declared in code.
 */
export class RedisScheduleStore implements ScheduleStore {
  private readonly redis: Client;
  private readonly keys: RunKeys;

  constructor(client: RedisClient, prefix: string) {
    client.defineCommand('scheduleRun', { numberOfKeys: 1, lua: SCRIPT });
    this.redis = client as Client;
    this.keys = new RunKeys(prefix);
  }

  async lastRun(scheduleId: string): Promise<{ runId: string; slotAt: number } | null> {
    return parseLast(await guarded(this.redis.hget(this.keys.schedules(), `last:${scheduleId}`))) ?? null;
  }

  async recordRun(scheduleId: string, slotAt: number, runId: string): Promise<void> {
    await guarded(this.redis.scheduleRun(this.keys.schedules(), scheduleId, slotAt, runId));
  }

  async recordSkip(scheduleId: string, slotAt: number): Promise<void> {
    const key = this.keys.schedules();
    await guarded(Promise.all([this.redis.hincrby(key, `skipped:${scheduleId}`, 1), this.redis.hset(key, `skippedAt:${scheduleId}`, slotAt)]));
  }

  async stats(scheduleIds: readonly string[]): Promise<Array<{ lastRun?: { runId: string; slotAt: number }; skipped: number; lastSkippedAt?: number }>> {
    if (!scheduleIds.length) return [];
    const fields = scheduleIds.flatMap((id) => [`last:${id}`, `skipped:${id}`, `skippedAt:${id}`]);
    const values = await guarded(this.redis.hmget(this.keys.schedules(), ...fields));
    return scheduleIds.map((_, i) => {
      const [last, skipped, skippedAt] = values.slice(i * 3, i * 3 + 3);
      return { lastRun: parseLast(last), skipped: Number(skipped ?? 0), ...(skippedAt ? { lastSkippedAt: Number(skippedAt) } : {}) };
    });
  }

  async codeScheduleIds(): Promise<string[]> {
    return guarded(this.redis.smembers(this.keys.codeSchedules()));
  }

  async markCode(scheduleIds: readonly string[]): Promise<void> {
    if (scheduleIds.length) await guarded(this.redis.sadd(this.keys.codeSchedules(), ...scheduleIds));
  }

  async forget(scheduleId: string): Promise<void> {
    await guarded(
      Promise.all([
        this.redis.hdel(this.keys.schedules(), `last:${scheduleId}`, `skipped:${scheduleId}`, `skippedAt:${scheduleId}`),
        this.redis.srem(this.keys.codeSchedules(), scheduleId),
      ]),
    );
  }

  async unmarkCode(scheduleId: string): Promise<void> {
    await guarded(this.redis.srem(this.keys.codeSchedules(), scheduleId));
  }
}
