import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RedisUnavailableError } from '../../common/errors';
import { LeaseLostError } from '../errors';
import type { ClaimResult, RunOutcome, RunRecord, RunStore, StepRecord, StepWrite } from '../ports';
import type { RunStatus } from '../../common/types';
import { isConnectionError, type RedisClient } from './connection';
import { RunKeys, STEP_FIELD } from './keys';
import { packStep, unpackStep } from './step-codec';

type ScriptName = 'create' | 'createIndexed' | 'claim' | 'saveSteps' | 'suspend' | 'finish' | 'touch' | 'release';
type ScriptClient = RedisClient & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

const LUA_DIR = join(__dirname, 'lua');

/**
 * How late past its due time a run may be before the reconciler steps in.
 * Comfortably above BullMQ's own delay (a delayed job is up to ~100 ms late on
 * an idle Redis, a stalled job waits for its lock to lapse, which the lease covers).
 */
export const TIMER_GRACE_MS = 5000;

/** The run fields a list needs: never the input, output or steps, however large they are. */
const SUMMARY_FIELDS = ['flowId', 'status', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt', 'wakeAt', 'executions', 'error'] as const;

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

function stepFields(steps: readonly StepWrite[]): string[] {
  const flat: string[] = [];
  for (const [key, record] of steps) flat.push(STEP_FIELD + key, packStep(record));
  return flat;
}

function num(value: string | undefined | null): number | undefined {
  return value === undefined || value === null || value === '' ? undefined : Number(value);
}

function toRun(runId: string, fields: Map<string, string>): RunRecord {
  const error = fields.get('error');
  return {
    runId,
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

/** Splits one run hash (as field/value pairs) into the run and its steps. */
function split(runId: string, pairs: Iterable<[string, string]>): { run: RunRecord; steps: Map<string, StepRecord> } {
  const fields = new Map<string, string>();
  const steps = new Map<string, StepRecord>();
  for (const [field, value] of pairs) {
    if (field.startsWith(STEP_FIELD)) steps.set(field.slice(STEP_FIELD.length), unpackStep(value));
    else fields.set(field, value);
  }
  return { run: toRun(runId, fields), steps };
}

function* flatPairs(flat: string[]): Iterable<[string, string]> {
  for (let i = 0; i < flat.length; i += 2) yield [flat[i], flat[i + 1]];
}

function explain(err: unknown): never {
  const message = (err as Error)?.message ?? String(err);
  if (isConnectionError(err)) throw Object.assign(new RedisUnavailableError(message), { cause: err });
  throw err;
}

/** Redis calls fail with ioredis' own wording; say it in ours, and keep the original as cause. A plain catch: no extra promise per call. */
function guarded<T>(call: Promise<T>): Promise<T> {
  return call.catch(explain);
}

/**
 * The RunStore on Redis: one hash per run holding its fields and its steps
 * (one JSON value per step, so a step write never rewrites the others), and
 * a sorted set per flow for listing. Every multi-field change is one Lua script.
 */
export class RedisRunStore implements RunStore {
  private readonly redis: ScriptClient;
  private readonly keys: RunKeys;
  private sequence = 0;

  constructor(
    client: RedisClient,
    prefix: string,
    private readonly retentionMs: number,
    /** On a Cluster the run and its flow index sit in different slots and cannot share a script. */
    private readonly cluster = false,
  ) {
    this.redis = defineScripts(client);
    this.keys = new RunKeys(prefix);
  }

  async create(run: { runId: string; flowId: string; input?: string; createdAt: number; dueAt: number }): Promise<boolean> {
    // A sub-millisecond sequence keeps runs created in the same ms apart (and in order) for cursor paging.
    const score = run.createdAt * 1000 + (this.sequence++ % 1000);
    const runKey = this.keys.run(run.runId);
    const indexKey = this.keys.flowRuns(run.flowId);
    if (!this.cluster) {
      const created = await guarded(
        this.redis.createIndexed(runKey, indexKey, this.keys.timers(), run.flowId, run.input ?? '', run.createdAt, score, run.runId, run.dueAt + TIMER_GRACE_MS),
      );
      return created === 1;
    }
    const created = await guarded(this.redis.create(runKey, run.flowId, run.input ?? '', run.createdAt));
    if (created !== 1) return false;
    await guarded(Promise.all([this.redis.zadd(indexKey, 'NX', score, run.runId), this.setTimer(run.runId, run.dueAt + TIMER_GRACE_MS)]));
    return true;
  }

  async overdue(now: number, limit: number): Promise<Array<{ runId: string; status: RunStatus | null; wakeAt?: number; leaseUntil?: number }>> {
    const ids = await guarded(this.redis.zrangebyscore(this.keys.timers(), '-inf', now, 'LIMIT', 0, limit));
    const states = await guarded(Promise.all(ids.map((id) => this.redis.hmget(this.keys.run(id), 'status', 'wakeAt', 'leaseUntil'))));
    return ids.map((runId, i) => ({
      runId,
      status: states[i][0] as RunStatus | null,
      wakeAt: num(states[i][1]),
      leaseUntil: num(states[i][2]),
    }));
  }

  async setTimer(runId: string, at: number): Promise<void> {
    await guarded(this.redis.zadd(this.keys.timers(), at, runId));
  }

  async clearTimer(runId: string): Promise<void> {
    await guarded(this.redis.zrem(this.keys.timers(), runId));
  }

  /**
   * Timer moves ride along with the state changes without being waited for:
   * the timer is a safety net, and a lost move only makes the reconciler look
   * at a run once more, or a little later.
   */
  private moveTimer(runId: string, at: number | null): void {
    void (at === null ? this.clearTimer(runId) : this.setTimer(runId, at)).catch(() => undefined);
  }

  async claim(runId: string, token: string, leaseMs: number): Promise<ClaimResult> {
    const reply = (await guarded(this.redis.claim(this.keys.run(runId), token, Date.now(), leaseMs))) as [number, ...unknown[]];
    switch (reply[0]) {
      case 0:
        return { kind: 'missing' };
      case 2:
        return { kind: 'finished', status: reply[1] as RunStatus };
      case 3:
        return { kind: 'busy', retryInMs: Number(reply[1]) };
      default:
        // The timer is left where it is: if it comes due while this execution
        // runs, the reconciler sees a live lease and moves it past the lease itself.
        return { kind: 'claimed', ...split(runId, flatPairs(reply[1] as string[])) };
    }
  }

  async saveSteps(runId: string, token: string, steps: readonly StepWrite[]): Promise<void> {
    const ok = await guarded(this.redis.saveSteps(this.keys.run(runId), token, ...stepFields(steps)));
    if (ok !== 1) throw new LeaseLostError(runId);
  }

  async touch(runId: string, token: string, leaseMs: number): Promise<void> {
    const ok = await guarded(this.redis.touch(this.keys.run(runId), token, Date.now(), leaseMs));
    if (ok !== 1) throw new LeaseLostError(runId);
  }

  async suspend(runId: string, token: string, wakeAt: number, steps: readonly StepWrite[]): Promise<void> {
    const ok = await guarded(this.redis.suspend(this.keys.run(runId), token, Date.now(), wakeAt, ...stepFields(steps)));
    if (ok !== 1) throw new LeaseLostError(runId);
    this.moveTimer(runId, wakeAt + TIMER_GRACE_MS);
  }

  async finish(runId: string, token: string, outcome: RunOutcome, steps: readonly StepWrite[]): Promise<void> {
    const ok = await guarded(
      this.redis.finish(
        this.keys.run(runId),
        token,
        Date.now(),
        outcome.status,
        outcome.status === 'completed' ? (outcome.output ?? '') : '',
        outcome.status === 'failed' ? JSON.stringify(outcome.error) : '',
        this.retentionMs,
        ...stepFields(steps),
      ),
    );
    if (ok !== 1) throw new LeaseLostError(runId);
    this.moveTimer(runId, null);
  }

  async release(runId: string, token: string): Promise<void> {
    await guarded(this.redis.release(this.keys.run(runId), token, Date.now()));
    this.moveTimer(runId, Date.now() + TIMER_GRACE_MS);
  }

  async get(runId: string): Promise<{ run: RunRecord; steps: Map<string, StepRecord> } | null> {
    const fields = await guarded(this.redis.hgetall(this.keys.run(runId)));
    if (!fields.flowId) return null;
    return split(runId, Object.entries(fields));
  }

  async status(runId: string): Promise<RunStatus | null> {
    return (await guarded(this.redis.hget(this.keys.run(runId), 'status'))) as RunStatus | null;
  }

  async list(query: { flowIds: readonly string[]; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }> {
    const indexes = query.flowIds.map((flowId) => this.keys.flowRuns(flowId));
    const runs: RunRecord[] = [];
    // The cursor is the score of the last run returned; the next page starts strictly below it.
    let max = query.cursor ? `(${query.cursor}` : '+inf';
    // A status filter may skip many entries: read in batches, bounded so one call stays cheap.
    const batch = Math.max(query.limit, 100);
    for (let scanned = 0; scanned < 5000; scanned += batch) {
      const pages = await guarded(Promise.all(indexes.map((index) => this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch))));
      // Newest first across every flow's index; cut at `batch` so no index is read past what it returned.
      const entries = pages
        .flatMap((page, i) => [...flatPairs(page)].map(([runId, score]) => ({ runId, score, index: indexes[i] })))
        .sort((a, b) => Number(b.score) - Number(a.score))
        .slice(0, batch);
      if (entries.length === 0) return { runs };
      // Concurrent commands go out back to back on one connection (per node), like a pipeline, but may span Cluster slots.
      const records = await guarded(Promise.all(entries.map((e) => this.redis.hmget(this.keys.run(e.runId), ...SUMMARY_FIELDS))));
      const expired: Array<{ index: string; runId: string }> = [];
      for (let i = 0; i < entries.length; i++) {
        max = `(${entries[i].score}`;
        const values = records[i];
        if (!values[0]) {
          expired.push(entries[i]);
          continue;
        }
        const fields = new Map(SUMMARY_FIELDS.flatMap((name, j) => (values[j] === null ? [] : [[name, values[j]!] as [string, string]])));
        if (query.status && fields.get('status') !== query.status) continue;
        runs.push(toRun(entries[i].runId, fields));
        if (runs.length === query.limit) {
          const more = i + 1 < entries.length || pages.some((page) => page.length === batch * 2);
          return { runs, nextCursor: more ? entries[i].score : undefined };
        }
      }
      // Runs past their retention leave their index entry behind; drop those lazily here.
      await guarded(Promise.all(expired.map((e) => this.redis.zrem(e.index, e.runId))));
      if (pages.every((page) => page.length < batch * 2)) return { runs };
    }
    return { runs, nextCursor: max.slice(1) };
  }

  async sweepIndexes(flowIds: readonly string[], cutoff: number): Promise<number> {
    let dropped = 0;
    for (const index of flowIds.map((id) => this.keys.flowRuns(id))) {
      const ids = await guarded(this.redis.zrangebyscore(index, '-inf', cutoff * 1000, 'LIMIT', 0, 1000));
      if (ids.length === 0) continue;
      const exists = await guarded(Promise.all(ids.map((id) => this.redis.exists(this.keys.run(id)))));
      // A run older than the cutoff may still be alive (a long sleep): only expired records lose their entry.
      const gone = ids.filter((_, i) => exists[i] === 0);
      if (gone.length) dropped += Number(await guarded(this.redis.zrem(index, ...gone)));
    }
    return dropped;
  }
}
