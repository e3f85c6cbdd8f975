import type { Redis } from 'ioredis';

/** Calls and server time per command, from INFO commandstats. */
export type CommandStats = Map<string, { calls: number; usec: number }>;

/** Commands the bench itself sends to take measurements; never counted against a variant. */
const OBSERVER_COMMANDS = new Set(['info', 'slowlog', 'config', 'client', 'ping', 'memory', 'scan', 'flushall', 'select', 'hello']);

function section(raw: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of raw.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

export async function commandStats(client: Redis): Promise<CommandStats> {
  const stats: CommandStats = new Map();
  for (const [key, value] of section(await client.info('commandstats'))) {
    const name = key.replace(/^cmdstat_/, '');
    const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
    const usec = Number(/usec=(\d+)/.exec(value)?.[1] ?? 0);
    stats.set(name, { calls, usec });
  }
  return stats;
}

/**
 * What happened between two snapshots. Redis counts commands called from Lua
 * too (an EVALSHA running HGET+HSET shows as evalsha 1, hget 1, hset 1), so
 * `calls` is work done inside Redis, not round trips.
 */
export function diffCommandStats(before: CommandStats, after: CommandStats): CommandStats {
  const delta: CommandStats = new Map();
  for (const [name, now] of after) {
    if (OBSERVER_COMMANDS.has(name.split('|')[0])) continue;
    const was = before.get(name) ?? { calls: 0, usec: 0 };
    const calls = now.calls - was.calls;
    if (calls > 0) delta.set(name, { calls, usec: now.usec - was.usec });
  }
  return delta;
}

export function totals(stats: CommandStats): { calls: number; usec: number } {
  let calls = 0;
  let usec = 0;
  for (const entry of stats.values()) {
    calls += entry.calls;
    usec += entry.usec;
  }
  return { calls, usec };
}

/** "evalsha 12.0, hset 24.0, ..." per unit (run, resume), busiest first. */
export function describePer(stats: CommandStats, per: number, top = 8): string {
  return [...stats.entries()]
    .sort((a, b) => b[1].calls - a[1].calls)
    .slice(0, top)
    .map(([name, { calls }]) => `${name} ${(calls / per).toFixed(calls / per >= 10 ? 0 : 1)}`)
    .join(', ');
}

export async function usedMemory(client: Redis): Promise<number> {
  return Number(section(await client.info('memory')).get('used_memory'));
}

/** Seconds of CPU the redis-server process has used (user + system). */
export async function redisCpuSeconds(client: Redis): Promise<number> {
  const cpu = section(await client.info('cpu'));
  return Number(cpu.get('used_cpu_user')) + Number(cpu.get('used_cpu_sys'));
}
