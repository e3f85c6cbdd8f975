import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CancelRequestedError, LeaseLostError } from '../errors';
import type { CancelReply, ClaimResult, OverdueRun, RunOutcome, RunRecord, RunStore, StepRecord, StepRewind, StepWrite } from '../ports';
import type { ErrorInfo, RunStatus } from '../../common/types';
import { explainUnavailable as explain, type RedisClient } from './connection';
import { RunKeys, STEP_FIELD } from './keys';
import { packStep, unpackStep } from './step-codec';

type ScriptName = 'create' | 'createIndexed' | 'claim' | 'saveSteps' | 'suspend' | 'finish' | 'touch' | 'release' | 'cancel' | 'setResumeJob' | 'handBack';
type ScriptClient = RedisClient & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

const LUA_DIR = join(__dirname, 'lua');

/**
 * How late past its due time a run may be before the reconciler steps in.
 * Comfortably above BullMQ's own delay (a delayed job is up to ~100 ms late on
 * an idle Redis, a stalled job waits for its lock to lapse, which the lease covers).
 */
export const TIMER_GRACE_MS = 5000;

/** The run fields a list needs: never the input, output or steps, however large they are. */
const SUMMARY_FIELDS = ['flowId', 'status', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt', 'wakeAt', 'executions', 'error', 'retries', 'previousErrors'] as const;

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

function rewindFields(rewinds: readonly StepRewind[]): string[] {
  const flat: string[] = [];
  for (const [key, record] of rewinds) flat.push(STEP_FIELD + key, record ? packStep(record) : '');
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
    timeoutMs: num(fields.get('timeoutMs')),
    deadline: num(fields.get('deadline')),
    cancelRequested: fields.get('cancelRequested'),
    retries: num(fields.get('retries')),
    previousErrors: fields.has('previousErrors') ? JSON.parse(fields.get('previousErrors')!) : undefined,
    unknownFlowSince: num(fields.get('unknownFlowSince')),
  };
}

/**
 * A fenced write's reply: 1 done, -1 lease lost, {-2, reason} a cancel was
 * requested. Throws for anything but 1.
 */
function checkFenced(runId: string, reply: unknown): void {
  if (reply === 1) return;
  if (Array.isArray(reply) && Number(reply[0]) === -2) throw new CancelRequestedError(runId, String(reply[1] ?? ''));
  throw new LeaseLostError(runId);
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

/** Where a page ended: the last run's index score and id. */
interface Position {
  score: string;
  runId: string;
}

/**
 * Cursors are "<score>:<runId>". A bare "<score>" (the form before runIds were
 * part of it) still reads as "everything below that score".
 */
export const CURSOR = /^(\d+(?:\.\d+)?)(?::([A-Za-z0-9_.-]{1,200}))?$/;

function parseCursor(cursor: string | undefined): Position | undefined {
  const match = cursor === undefined ? null : CURSOR.exec(cursor);
  return match ? { score: match[1], runId: match[2] ?? '' } : undefined;
}

const cursorOf = (position: Position) => `${position.score}:${position.runId}`;

/** Sorted-set order, reversed: higher score first, then (same score) the byte-wise larger member; run ids are ASCII. */
function newestFirst(a: Position, b: Position): number {
  return Number(b.score) - Number(a.score) || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0);
}

function* flatPairs(flat: string[]): Iterable<[string, string]> {
  for (let i = 0; i < flat.length; i += 2) yield [flat[i], flat[i + 1]];
}

/** Redis calls fail with ioredis' own wording; say it in ours, and keep the original as cause. A plain catch: no extra promise per call. */
export function guarded<T>(call: Promise<T>): Promise<T> {
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

  async create(run: { runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number; request?: string }): Promise<boolean> {
    const timeoutMs = run.timeoutMs ?? '';
    // A sub-millisecond sequence keeps runs created in the same ms apart (and in order) for cursor paging.
    const score = run.createdAt * 1000 + (this.sequence++ % 1000);
    const runKey = this.keys.run(run.runId);
    const indexKey = this.keys.flowRuns(run.flowId);
    // Tells a resend of this call (ioredis re-sends when a reply is lost) from another trigger of the same run id.
    const request = run.request ?? randomBytes(9).toString('base64url');
    if (!this.cluster) {
      const created = await guarded(
        this.redis.createIndexed(
          runKey, indexKey, this.keys.timers(), run.flowId, run.input ?? '', run.createdAt, score, run.runId, run.dueAt + TIMER_GRACE_MS, timeoutMs, request,
        ),
      );
      return created === 1;
    }
    const created = await guarded(this.redis.create(runKey, run.flowId, run.input ?? '', run.createdAt, timeoutMs, request));
    if (created !== 1) return false;
    await guarded(Promise.all([this.redis.zadd(indexKey, 'NX', score, run.runId), this.setTimer(run.runId, run.dueAt + TIMER_GRACE_MS)]));
    return true;
  }

  async createMany(runs: ReadonlyArray<{ runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number }>): Promise<boolean[]> {
    // A Cluster spreads the runs over slots, which a pipeline cannot span; ioredis still sends these back to back.
    if (this.cluster) return Promise.all(runs.map((run) => this.create(run)));
    const pipeline = this.redis.pipeline() as unknown as Record<'createIndexed', (...args: (string | number)[]) => void> & { exec(): Promise<Array<[Error | null, unknown]> | null> };
    // Request ids as create() sends them: one random base per call, told apart by position.
    const request = randomBytes(9).toString('base64url');
    runs.forEach((run, i) => {
      const score = run.createdAt * 1000 + (this.sequence++ % 1000);
      pipeline.createIndexed(
        this.keys.run(run.runId),
        this.keys.flowRuns(run.flowId),
        this.keys.timers(),
        run.flowId,
        run.input ?? '',
        run.createdAt,
        score,
        run.runId,
        run.dueAt + TIMER_GRACE_MS,
        run.timeoutMs ?? '',
        `${request}${i}`,
      );
    });
    const replies = (await guarded(pipeline.exec())) ?? [];
    return replies.map(([err, created]) => {
      if (err) explain(err);
      return created === 1;
    });
  }

  async overdue(now: number, limit: number): Promise<OverdueRun[]> {
    const ids = await guarded(this.redis.zrangebyscore(this.keys.timers(), '-inf', now, 'LIMIT', 0, limit));
    return Promise.all(ids.map((id) => this.readTimerState(id)));
  }

  async timerState(runId: string): Promise<OverdueRun | null> {
    const state = await this.readTimerState(runId);
    return state.status === null ? null : state;
  }

  private async readTimerState(runId: string): Promise<OverdueRun> {
    const [status, wakeAt, leaseUntil, resumeJob] = await guarded(this.redis.hmget(this.keys.run(runId), 'status', 'wakeAt', 'leaseUntil', 'resumeJob'));
    return { runId, status: status as RunStatus | null, wakeAt: num(wakeAt), leaseUntil: num(leaseUntil), resumeJob: resumeJob ?? undefined };
  }

  async setResumeJob(runId: string, jobId: string): Promise<void> {
    await guarded(this.redis.setResumeJob(this.keys.run(runId), jobId));
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

  async claim(runId: string, token: string, leaseMs: number, request = ''): Promise<ClaimResult> {
    const reply = (await guarded(this.redis.claim(this.keys.run(runId), token, Date.now(), leaseMs, request))) as [number, ...unknown[]];
    switch (reply[0]) {
      case 0:
        return { kind: 'missing' };
      case 6:
        return { kind: 'spare' };
      case 2:
        return { kind: 'finished', status: reply[1] as RunStatus };
      case 3:
        return { kind: 'busy', retryInMs: Number(reply[1]) };
      case 4:
        return { kind: 'claimed', ...split(runId, flatPairs(reply[1] as string[])), stop: 'cancelled' };
      case 5:
        return { kind: 'claimed', ...split(runId, flatPairs(reply[1] as string[])), stop: 'timeout' };
      default:
        // The timer is left where it is: if it comes due while this execution
        // runs, the reconciler sees a live lease and moves it past the lease itself.
        return { kind: 'claimed', ...split(runId, flatPairs(reply[1] as string[])), takeover: reply[2] === 1 };
    }
  }

  async saveSteps(runId: string, token: string, steps: readonly StepWrite[]): Promise<void> {
    checkFenced(runId, await guarded(this.redis.saveSteps(this.keys.run(runId), token, ...stepFields(steps))));
  }

  async touch(runId: string, token: string, leaseMs: number, markers: readonly StepWrite[] = []): Promise<void> {
    checkFenced(runId, await guarded(this.redis.touch(this.keys.run(runId), token, Date.now(), leaseMs, ...stepFields(markers))));
  }

  async suspend(runId: string, token: string, wakeAt: number, resumeJob: string, steps: readonly StepWrite[]): Promise<void> {
    checkFenced(runId, await guarded(this.redis.suspend(this.keys.run(runId), token, Date.now(), wakeAt, resumeJob, ...stepFields(steps))));
    this.moveTimer(runId, wakeAt + TIMER_GRACE_MS);
  }

  async finish(runId: string, token: string, outcome: RunOutcome, steps: readonly StepWrite[], rewinds: readonly StepRewind[] = []): Promise<void> {
    const rewound = rewindFields(rewinds);
    const ok = await guarded(
      this.redis.finish(
        this.keys.run(runId),
        token,
        Date.now(),
        outcome.status,
        outcome.status === 'completed' ? (outcome.output ?? '') : '',
        outcome.status !== 'completed' ? JSON.stringify(outcome.error) : '',
        this.retentionMs,
        rewound.length,
        ...rewound,
        ...stepFields(steps),
      ),
    );
    checkFenced(runId, ok);
    this.moveTimer(runId, null);
    // The mailbox (signals never taken) expires with the run; not waited for, like the timer.
    if (this.retentionMs > 0) void this.redis.pexpire(this.keys.mailbox(runId), this.retentionMs).catch(() => undefined);
  }

  async cancel(runId: string, reason: string, error: ErrorInfo): Promise<CancelReply> {
    const reply = (await guarded(this.redis.cancel(this.keys.run(runId), Date.now(), reason, JSON.stringify(error), this.retentionMs))) as [number, ...string[]];
    switch (reply[0]) {
      case 0:
        return { kind: 'missing' };
      case 1:
        this.moveTimer(runId, null);
        return { kind: 'cancelled', flowId: reply[1], input: reply[2] === '' ? undefined : reply[2] };
      case 2:
        return { kind: 'finished', status: reply[1] as RunStatus };
      default:
        return { kind: 'requested', reason: reply[1] ?? '' };
    }
  }

  async release(runId: string, token: string, resumeJob: string, rewinds: readonly StepRewind[] = []): Promise<void> {
    await guarded(this.redis.release(this.keys.run(runId), token, Date.now(), resumeJob, ...rewindFields(rewinds)));
    this.moveTimer(runId, Date.now() + TIMER_GRACE_MS);
  }

  async handBack(runId: string, token: string, retryAt: number, resumeJob: string): Promise<{ first: boolean; since: number }> {
    const reply = await guarded(this.redis.handBack(this.keys.run(runId), token, Date.now(), resumeJob));
    if (!Array.isArray(reply)) throw new LeaseLostError(runId);
    this.moveTimer(runId, retryAt + TIMER_GRACE_MS);
    return { first: Number(reply[0]) === 1, since: Number(reply[1]) };
  }

  async forgetUnknownFlow(runId: string): Promise<void> {
    await guarded(this.redis.hdel(this.keys.run(runId), 'unknownFlowSince'));
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
    // Runs are ordered by (score, runId), both descending, as Redis orders a sorted set. The
    // cursor names the last run returned; the score alone is not unique (two instances can
    // create runs in the same millisecond with the same sequence number).
    let after = parseCursor(query.cursor);
    // A status filter may skip many entries: read in batches, bounded so one call stays cheap.
    const batch = Math.max(query.limit, 100);
    for (let scanned = 0; scanned < 5000; scanned += batch) {
      const [ties, pages] = await Promise.all([this.tiesAfter(indexes, after), this.below(indexes, after?.score, batch)]);
      // Newest first across every flow's index; cut at `batch` so no index is read past what it returned.
      const entries = ties.concat(
        pages
          .flatMap((page, i) => [...flatPairs(page)].map(([runId, score]) => ({ runId, score, index: indexes[i] })))
          .sort(newestFirst)
          .slice(0, batch),
      );
      if (entries.length === 0) return { runs };
      const full = pages.some((page) => page.length === batch * 2);
      // Concurrent commands go out back to back on one connection (per node), like a pipeline, but may span Cluster slots.
      const records = await guarded(Promise.all(entries.map((e) => this.redis.hmget(this.keys.run(e.runId), ...SUMMARY_FIELDS))));
      const expired: Array<{ index: string; runId: string }> = [];
      for (let i = 0; i < entries.length; i++) {
        after = entries[i];
        const values = records[i];
        if (!values[0]) {
          expired.push(entries[i]);
          continue;
        }
        const fields = new Map(SUMMARY_FIELDS.flatMap((name, j) => (values[j] === null ? [] : [[name, values[j]!] as [string, string]])));
        if (query.status && fields.get('status') !== query.status) continue;
        runs.push(toRun(entries[i].runId, fields));
        if (runs.length === query.limit) {
          return { runs, nextCursor: i + 1 < entries.length || full ? cursorOf(after) : undefined };
        }
      }
      // Runs past their retention leave their index entry behind; drop those lazily here.
      await guarded(Promise.all(expired.flatMap((e) => [this.redis.zrem(e.index, e.runId), this.redis.unlink(this.keys.mailbox(e.runId))])));
      if (!full) return { runs };
    }
    return { runs, nextCursor: after ? cursorOf(after) : undefined };
  }

  /** Entries with the cursor's own score that come after it (smaller runId). A handful at most: one per instance creating runs in that millisecond. */
  private async tiesAfter(indexes: string[], after?: Position): Promise<Array<Position & { index: string }>> {
    if (!after) return [];
    const groups = await guarded(Promise.all(indexes.map((index) => this.redis.zrevrangebyscore(index, after.score, after.score))));
    return groups
      .flatMap((members, i) => members.filter((runId) => runId < after.runId).map((runId) => ({ runId, score: after.score, index: indexes[i] })))
      .sort(newestFirst);
  }

  /** Up to `batch` entries of each index scored strictly below `score` (or from the top), with their scores. */
  private below(indexes: string[], score: string | undefined, batch: number): Promise<string[][]> {
    const max = score === undefined ? '+inf' : `(${score}`;
    return guarded(Promise.all(indexes.map((index) => this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch))));
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
      // A mailbox outlives its run only if no finish gave it the run's expiry (a cancel, a lost PEXPIRE): drop it with the run.
      if (gone.length) await guarded(Promise.all(gone.map((id) => this.redis.unlink(this.keys.mailbox(id)))));
    }
    return dropped;
  }
}
