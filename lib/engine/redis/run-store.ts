import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LeaseLostError, RedisUnavailableError } from '../errors';
import type { ClaimResult, RunOutcome, RunRecord, RunStore, StepRecord, StepWrite } from '../ports';
import type { RunStatus } from '../types';
import type { RedisClient } from './connection';
import { RunKeys } from './keys';

type ScriptName = 'create' | 'claim' | 'saveSteps' | 'suspend' | 'finish' | 'touch' | 'release';
type ScriptClient = RedisClient & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

const LUA_DIR = join(__dirname, 'lua');

/** Loads lua/<name>-<numberOfKeys>.lua as ioredis commands (EVALSHA, with EVAL fallback). */
function defineScripts(client: RedisClient): ScriptClient {
  for (const file of readdirSync(LUA_DIR)) {
    const match = /^(.+)-(\d+)\.lua$/.exec(file);
    if (!match) continue;
    const name = match[1].replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    client.defineCommand(name, { numberOfKeys: Number(match[2]), lua: readFileSync(join(LUA_DIR, file), 'utf8') });
  }
  return client as ScriptClient;
}

function flatSteps(steps: readonly StepWrite[]): string[] {
  const flat: string[] = [];
  for (const [key, record] of steps) flat.push(key, JSON.stringify(record));
  return flat;
}

function pairs(flat: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}

function num(value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : Number(value);
}

function toRun(fields: Map<string, string>): RunRecord {
  const error = fields.get('error');
  return {
    runId: fields.get('runId')!,
    flowId: fields.get('flowId')!,
    status: fields.get('status') as RunStatus,
    input: fields.get('input'),
    output: fields.get('output'),
    error: error ? JSON.parse(error) : undefined,
    createdAt: Number(fields.get('createdAt')),
    updatedAt: Number(fields.get('updatedAt')),
    startedAt: num(fields.get('startedAt')),
    finishedAt: num(fields.get('finishedAt')),
    wakeAt: num(fields.get('wakeAt')),
    executions: Number(fields.get('executions') ?? 0),
  };
}

function toSteps(flat: string[]): Map<string, StepRecord> {
  const steps = new Map<string, StepRecord>();
  for (let i = 0; i < flat.length; i += 2) steps.set(flat[i], JSON.parse(flat[i + 1]) as StepRecord);
  return steps;
}

/** Redis calls fail with ioredis' own wording; say it in ours, and keep the original as cause. */
async function guarded<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (/enableOfflineQueue|Connection is closed|ECONNREFUSED|ETIMEDOUT|max retries|Stream isn't writeable/i.test(message)) {
      throw Object.assign(new RedisUnavailableError(message), { cause: err });
    }
    throw err;
  }
}

/**
 * The RunStore on Redis: a hash per run, a hash of steps per run (one JSON
 * value per step, so a step write never rewrites the others), and sorted-set
 * indexes for listing. Every multi-field change is one Lua script.
 */
export class RedisRunStore implements RunStore {
  private readonly redis: ScriptClient;
  private readonly keys: RunKeys;
  private sequence = 0;

  constructor(
    client: RedisClient,
    prefix: string,
    private readonly retentionMs: number,
  ) {
    this.redis = defineScripts(client);
    this.keys = new RunKeys(prefix);
  }

  async create(run: { runId: string; flowId: string; input?: string; createdAt: number }): Promise<boolean> {
    const created = await guarded(
      this.redis.create(this.keys.run(run.runId), run.runId, run.flowId, run.input ?? '', run.createdAt),
    );
    if (created !== 1) return false;
    // A sub-millisecond sequence keeps runs created in the same ms apart (and in order) for cursor paging.
    const score = run.createdAt * 1000 + (this.sequence++ % 1000);
    // Two plain commands, not a MULTI: the index keys live in other Cluster slots than the run.
    await guarded(
      Promise.all([
        this.redis.zadd(this.keys.allRuns(), 'NX', score, run.runId),
        this.redis.zadd(this.keys.flowRuns(run.flowId), 'NX', score, run.runId),
      ]),
    );
    return true;
  }

  async claim(runId: string, token: string, leaseMs: number): Promise<ClaimResult> {
    const reply = (await guarded(
      this.redis.claim(this.keys.run(runId), this.keys.steps(runId), token, Date.now(), leaseMs),
    )) as [number, ...unknown[]];
    switch (reply[0]) {
      case 0:
        return { kind: 'missing' };
      case 2:
        return { kind: 'finished', status: reply[1] as RunStatus };
      case 3:
        return { kind: 'busy', retryInMs: Number(reply[1]) };
      default:
        return { kind: 'claimed', run: toRun(pairs(reply[1] as string[])), steps: toSteps(reply[2] as string[]) };
    }
  }

  async saveSteps(runId: string, token: string, leaseMs: number, steps: readonly StepWrite[]): Promise<void> {
    const ok = await guarded(
      this.redis.saveSteps(this.keys.run(runId), this.keys.steps(runId), token, Date.now(), leaseMs, ...flatSteps(steps)),
    );
    if (ok !== 1) throw new LeaseLostError(runId);
  }

  async touch(runId: string, token: string, leaseMs: number): Promise<void> {
    const ok = await guarded(this.redis.touch(this.keys.run(runId), token, Date.now(), leaseMs));
    if (ok !== 1) throw new LeaseLostError(runId);
  }

  async suspend(runId: string, token: string, wakeAt: number, steps: readonly StepWrite[]): Promise<void> {
    const ok = await guarded(
      this.redis.suspend(this.keys.run(runId), this.keys.steps(runId), token, Date.now(), wakeAt, ...flatSteps(steps)),
    );
    if (ok !== 1) throw new LeaseLostError(runId);
  }

  async finish(runId: string, token: string, outcome: RunOutcome, steps: readonly StepWrite[]): Promise<void> {
    const ok = await guarded(
      this.redis.finish(
        this.keys.run(runId),
        this.keys.steps(runId),
        token,
        Date.now(),
        outcome.status,
        outcome.status === 'completed' ? (outcome.output ?? '') : '',
        outcome.status === 'failed' ? JSON.stringify(outcome.error) : '',
        this.retentionMs,
        ...flatSteps(steps),
      ),
    );
    if (ok !== 1) throw new LeaseLostError(runId);
  }

  async release(runId: string, token: string): Promise<void> {
    await guarded(this.redis.release(this.keys.run(runId), token, Date.now()));
  }

  async get(runId: string): Promise<{ run: RunRecord; steps: Map<string, StepRecord> } | null> {
    const [[, run], [, steps]] = (await guarded(
      this.redis.multi().hgetall(this.keys.run(runId)).hgetall(this.keys.steps(runId)).exec(),
    )) as [[null, Record<string, string>], [null, Record<string, string>]];
    if (!run || !run.runId) return null;
    return {
      run: toRun(new Map(Object.entries(run))),
      steps: new Map(Object.entries(steps).map(([key, json]) => [key, JSON.parse(json) as StepRecord])),
    };
  }

  async sweepIndexes(flowIds: readonly string[], cutoff: number): Promise<number> {
    let dropped = 0;
    for (const index of [this.keys.allRuns(), ...flowIds.map((id) => this.keys.flowRuns(id))]) {
      const ids = await guarded(this.redis.zrangebyscore(index, '-inf', cutoff * 1000, 'LIMIT', 0, 1000));
      if (ids.length === 0) continue;
      const exists = await guarded(Promise.all(ids.map((id) => this.redis.exists(this.keys.run(id)))));
      // A run older than the cutoff may still be alive (a long sleep): only expired records lose their entry.
      const gone = ids.filter((_, i) => exists[i] === 0);
      if (gone.length) dropped += Number(await guarded(this.redis.zrem(index, ...gone)));
    }
    return dropped;
  }

  async status(runId: string): Promise<RunStatus | null> {
    return (await guarded(this.redis.hget(this.keys.run(runId), 'status'))) as RunStatus | null;
  }

  async list(query: { flowId?: string; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }> {
    const index = query.flowId ? this.keys.flowRuns(query.flowId) : this.keys.allRuns();
    const runs: RunRecord[] = [];
    // The cursor is the score of the last run returned; the next page starts strictly below it.
    let max = query.cursor ? `(${query.cursor}` : '+inf';
    // A status filter may skip many entries: read in batches, bounded so one call stays cheap.
    const batch = Math.max(query.limit, 100);
    for (let scanned = 0; runs.length < query.limit && scanned < 5000; scanned += batch) {
      const page = await guarded(this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch));
      if (page.length === 0) return { runs };
      const ids = page.filter((_, i) => i % 2 === 0);
      // Concurrent commands go out back to back on one connection (per node), like a pipeline, but may span Cluster slots.
      const records = await guarded(Promise.all(ids.map((id) => this.redis.hgetall(this.keys.run(id)))));
      const expired: string[] = [];
      for (let i = 0; i < ids.length; i++) {
        const fields = records[i];
        max = `(${page[i * 2 + 1]}`;
        if (!fields.runId) {
          expired.push(ids[i]);
          continue;
        }
        if (query.status && fields.status !== query.status) continue;
        runs.push(toRun(new Map(Object.entries(fields))));
        if (runs.length === query.limit) {
          return { runs, nextCursor: i + 1 < ids.length || page.length === batch * 2 ? page[i * 2 + 1] : undefined };
        }
      }
      // Runs past their retention leave their index entry behind; drop those lazily here.
      if (expired.length) await guarded(this.redis.zrem(index, ...expired));
      if (page.length < batch * 2) return { runs };
    }
    return { runs, nextCursor: max.slice(1) };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
