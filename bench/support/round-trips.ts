import type { Redis } from 'ioredis';
import { scriptNames } from './script-names';

/**
 * Counts the round trips clients make, by kind, from Redis' SLOWLOG with a
 * 0 µs threshold: every top-level command is logged with its arguments and
 * client address (commands run inside Lua are logged as client "?:0", so
 * they are told apart). No MONITOR, no hook in the engine. Used only in short
 * untimed windows: logging every command costs Redis time.
 */
export interface RoundTrips {
  total: number;
  /** e.g. "engine:claim", "bullmq:moveToActive", "hset" (bench baselines' own commands). */
  byLabel: Map<string, number>;
  /** Calls into GoTick's RunStore scripts and keys: what "round trips for state" means. */
  engineState: number;
  /** Calls made by BullMQ (its scripts and blocking reads). */
  queue: number;
}

type SlowlogEntry = [id: number, at: number, micros: number, args: string[], client: string, name: string];

const OBSERVER = new Set(['info', 'slowlog', 'config', 'client', 'ping', 'memory', 'scan', 'flushall', 'select', 'hello']);
const BLOCKING = new Set(['bzpopmin', 'bzpopmax', 'brpoplpush', 'blmove', 'xread']);

export class RoundTripTrace {
  private saved?: [string, string];

  constructor(private readonly observer: Redis) {}

  async start(): Promise<void> {
    scriptNames();
    const threshold = (await this.observer.config('GET', 'slowlog-log-slower-than')) as string[];
    const length = (await this.observer.config('GET', 'slowlog-max-len')) as string[];
    this.saved = [threshold[1], length[1]];
    await this.observer.config('SET', 'slowlog-max-len', '1000000');
    await this.observer.config('SET', 'slowlog-log-slower-than', '0');
    await this.observer.slowlog('RESET');
  }

  async stop(): Promise<RoundTrips> {
    const entries = ((await this.observer.slowlog('GET', '-1')) as SlowlogEntry[]).reverse();
    if (this.saved) {
      await this.observer.config('SET', 'slowlog-log-slower-than', this.saved[0]);
      await this.observer.config('SET', 'slowlog-max-len', this.saved[1]);
    }
    await this.observer.slowlog('RESET');
    return classify(entries);
  }
}

function classify(entries: SlowlogEntry[]): RoundTrips {
  const names = scriptNames();
  const byLabel = new Map<string, number>();
  const inMulti = new Map<string, string[]>();
  let engineState = 0;
  let queue = 0;
  const count = (label: string, kind: 'engine' | 'queue' | 'other') => {
    byLabel.set(label, (byLabel.get(label) ?? 0) + 1);
    if (kind === 'engine') engineState++;
    if (kind === 'queue') queue++;
  };
  const closeBlock = (block: string[]) => {
    const engine = block.some((entry) => isEngineKey(entry.slice(entry.indexOf(':') + 1)));
    count(`multi(${[...new Set(block.map((entry) => entry.split(':')[0]))].join('+')})`, engine ? 'engine' : 'other');
  };
  for (const [, , , args, client] of entries) {
    if (client === '?:0' || args.length === 0) continue;
    const command = args[0].toLowerCase();
    if (OBSERVER.has(command)) continue;
    // A MULTI..EXEC block is one round trip. Redis logs MULTI, then the queued
    // commands as EXEC runs them, but never EXEC itself: the block is taken to
    // end at that client's next script call (the engine's only MULTI is
    // create's index update, always followed by a script call).
    const block = inMulti.get(client);
    if (block && command !== 'multi' && command !== 'evalsha' && command !== 'eval' && !BLOCKING.has(command)) {
      block.push(`${command}:${args[1] ?? ''}`);
      continue;
    }
    if (block) {
      inMulti.delete(client);
      closeBlock(block);
    }
    if (command === 'multi') {
      inMulti.set(client, []);
      continue;
    }
    if (command === 'evalsha' || command === 'eval') {
      const sha = command === 'evalsha' ? args[1] : '';
      const engineName = names.engine.get(sha);
      const bullName = names.bullmq.get(sha);
      if (engineName) count(`engine:${engineName}`, 'engine');
      else if (bullName) count(`bullmq:${bullName}`, 'queue');
      // A script edited since the engine started has another hash: its keys still say whose it is.
      else if (isEngineKey(args[3] ?? '')) count(`engine:script-${sha.slice(0, 8)}`, 'engine');
      else count(`${command}:${sha.slice(0, 8)}`, 'other');
      continue;
    }
    if (BLOCKING.has(command)) {
      count(`bullmq:${command}`, 'queue');
      continue;
    }
    count(command, isEngineKey(args[1] ?? '') ? 'engine' : 'other');
  }
  for (const block of inMulti.values()) closeBlock(block);
  return { total: [...byLabel.values()].reduce((a, b) => a + b, 0), byLabel, engineState, queue };
}

/** GoTick's own keys: `<prefix>:run:{id}`, `<prefix>:runs` (index), `<prefix>:flow:<id>:runs`. */
function isEngineKey(key: string): boolean {
  return /:run:\{/.test(key) || /^[^:]+:runs$/.test(key) || /^[^:]+:flow:/.test(key);
}

/** Drops the bench's own calls (e.g. promoting a job) from a trace. */
export function withoutLabel(trips: RoundTrips, label: string): RoundTrips {
  const n = trips.byLabel.get(label) ?? 0;
  if (n === 0) return trips;
  const byLabel = new Map(trips.byLabel);
  byLabel.delete(label);
  const queue = label.startsWith('bullmq:') ? trips.queue - n : trips.queue;
  const engineState = label.startsWith('engine:') ? trips.engineState - n : trips.engineState;
  return { total: trips.total - n, byLabel, engineState, queue };
}

export function describeRoundTrips(trips: RoundTrips, per: number): string {
  return [...trips.byLabel.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([label, n]) => `${label} ${fmtPer(n / per)}`)
    .join(', ');
}

function fmtPer(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
