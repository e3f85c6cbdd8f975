import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CancelRequestedError, LeaseLostError } from '../errors';
import type { CancelReply, ClaimResult, DueWake, OverdueRun, ParentLink, RunEnding, RunOutcome, RunRecord, RunStore, StepRecord, StepRewind, StepWrite, WakeStore } from '../ports';
import type { ErrorInfo, RunStatus } from '../../common/types';
import { explainUnavailable, type RedisClient } from './connection';
import { requestId } from '../request-id';
import { guarded } from './guarded';
import { RedisRunIndex } from './run-index';
import { flatPairs, num, splitRunHash } from './run-fields';
import { RunKeys, STEP_FIELD } from './keys';
import { packStep } from './step-codec';

type ScriptName = 'create' | 'createIndexed' | 'claim' | 'saveSteps' | 'suspend' | 'finish' | 'touch' | 'release' | 'cancel' | 'setResumeJob' | 'handBack' | 'setTrace' | 'park' | 'parkTimed' | 'claimWakes';
type ScriptClient = RedisClient & Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;

const LUA_DIR = join(__dirname, 'lua');

/** The extra run fields of a plain trigger: none (shared, so a trigger allocates nothing for them). */
const NO_FIELDS: readonly string[] = [];

/**
 * How late past its due time a run may be before the reconciler steps in.
 * Comfortably above BullMQ's own delay (a delayed job is up to ~100 ms late on
 * an idle Redis, a stalled job waits for its lock to lapse, which the lease covers).
 */
export const TIMER_GRACE_MS = 5000;

/**
 * Loads lua/<name>-<numberOfKeys>.lua as ioredis commands (EVALSHA, with EVAL
 * fallback); lua/<name>-n.lua takes its number of keys as its first argument.
 */
function defineScripts(client: RedisClient): ScriptClient {
  for (const file of readdirSync(LUA_DIR)) {
    const match = /^(.+)-(\d+|n)\.lua$/.exec(file);
    if (!match) continue;
    const name = match[1].replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const numberOfKeys = match[2] === 'n' ? undefined : Number(match[2]);
    client.defineCommand(name, { numberOfKeys, lua: readFileSync(join(LUA_DIR, file), 'utf8') });
  }
  return client as ScriptClient;
}

function stepFields(steps: readonly StepWrite[]): string[] {
  const flat: string[] = [];
  for (const [key, record] of steps) flat.push(STEP_FIELD + key, packStep(record));
  return flat;
}

/** The fields a child run is created with, tying it to its parent. */
function parentFields(parent: ParentLink | undefined): string[] {
  if (!parent) return [];
  return parent.waits ? ['parentRunId', parent.runId, 'parentStep', parent.stepKey, 'wakeParent', '1'] : ['parentRunId', parent.runId, 'parentStep', parent.stepKey];
}

function rewindFields(rewinds: readonly StepRewind[]): string[] {
  const flat: string[] = [];
  for (const [key, record] of rewinds) flat.push(STEP_FIELD + key, record ? packStep(record) : '');
  return flat;
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

/** A park's reply: {1, executions} parked; else as checkFenced. Returns the run's executions. */
function checkParked(runId: string, reply: unknown): number {
  if (Array.isArray(reply) && Number(reply[0]) === 1) return Number(reply[1]);
  checkFenced(runId, reply);
  throw new LeaseLostError(runId);
}

/**
 * The RunStore on Redis: one hash per run holding its fields and its steps
 * (one JSON value per step, so a step write never rewrites the others), and
 * a sorted set per flow for listing. Every multi-field change is one Lua script.
 */
export class RedisRunStore implements RunStore, WakeStore {
  private readonly redis: ScriptClient;
  private readonly keys: RunKeys;
  private readonly index: RedisRunIndex;
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
    this.index = new RedisRunIndex(client, this.keys);
  }

  async create(run: { runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number; request?: string; traceparent?: string; scheduleId?: string; slotAt?: number; parent?: ParentLink }): Promise<boolean> {
    const timeoutMs = run.timeoutMs ?? '';
    const origin = run.scheduleId === undefined ? NO_FIELDS : ['scheduleId', run.scheduleId, 'slotAt', run.slotAt ?? ''];
    // A sub-millisecond sequence keeps runs created in the same ms apart (and in order) for cursor paging.
    const score = run.createdAt * 1000 + (this.sequence++ % 1000);
    const runKey = this.keys.run(run.runId);
    const indexKey = this.keys.flowRuns(run.flowId);
    // Tells a resend of this call (ioredis re-sends when a reply is lost) from another trigger of the same run id.
    const request = run.request ?? requestId();
    if (!this.cluster) {
      const created = await guarded(
        this.redis.createIndexed(
          runKey, indexKey, this.keys.timers(), run.flowId, run.input ?? '', run.createdAt, score, run.runId, run.dueAt + TIMER_GRACE_MS, timeoutMs, request,
          run.traceparent ?? '', ...origin, ...parentFields(run.parent),
        ),
      );
      return created === 1;
    }
    const created = await guarded(this.redis.create(runKey, run.flowId, run.input ?? '', run.createdAt, timeoutMs, request, run.traceparent ?? '', ...origin, ...parentFields(run.parent)));
    if (created !== 1) return false;
    await guarded(Promise.all([this.redis.zadd(indexKey, 'NX', score, run.runId), this.setTimer(run.runId, run.dueAt + TIMER_GRACE_MS)]));
    return true;
  }

  async createMany(runs: ReadonlyArray<{ runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number; traceparent?: string }>): Promise<boolean[]> {
    // A Cluster spreads the runs over slots, which a pipeline cannot span; ioredis still sends these back to back.
    if (this.cluster) return Promise.all(runs.map((run) => this.create(run)));
    const pipeline = this.redis.pipeline() as unknown as Record<'createIndexed', (...args: (string | number)[]) => void> & { exec(): Promise<Array<[Error | null, unknown]> | null> };
    // Request ids as create() sends them: one random base per call, told apart by position.
    const request = requestId();
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
        run.traceparent ?? '',
      );
    });
    const replies = (await guarded(pipeline.exec())) ?? [];
    return replies.map(([err, created]) => {
      if (err) explainUnavailable(err);
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
    const [status, wakeAt, leaseUntil, resumeJob, executions] = await guarded(
      this.redis.hmget(this.keys.run(runId), 'status', 'wakeAt', 'leaseUntil', 'resumeJob', 'executions'),
    );
    return { runId, status: status as RunStatus | null, wakeAt: num(wakeAt), leaseUntil: num(leaseUntil), resumeJob: resumeJob ?? undefined, executions: num(executions) };
  }

  async claimDueWakes(now: number, limit: number, timerAt: number): Promise<{ due: DueWake[]; nextAt?: number }> {
    const reply = (await guarded(this.redis.claimWakes(this.keys.wakes(), this.keys.timers(), now, limit, timerAt))) as string[];
    const due: DueWake[] = [];
    for (let i = 1; i < reply.length; i += 2) {
      const score = Number(reply[i + 1]);
      due.push({ runId: reply[i], wakeAt: Math.floor(score / 1000), seq: score % 1000 });
    }
    return { due, nextAt: reply[0] === '' ? undefined : Math.floor(Number(reply[0]) / 1000) };
  }

  async setResumeJob(runId: string, jobId: string): Promise<void> {
    await guarded(this.redis.setResumeJob(this.keys.run(runId), jobId));
  }

  async setTimer(runId: string, at: number): Promise<void> {
    await guarded(this.redis.zadd(this.keys.timers(), at, runId));
  }

  async clearTimer(runId: string): Promise<void> {
    // A finished run's wake-up too (say, the timeout of a signal wait that a signal ended): no spare job for the pump.
    // One slot, one round trip: the two sets are kept in the same Cluster slot.
    const [timers] = (await guarded(this.redis.pipeline().zrem(this.keys.timers(), runId).zrem(this.keys.wakes(), runId).exec())) ?? [];
    if (timers?.[0]) explainUnavailable(timers[0]);
  }

  /**
   * Timer moves ride along with the state changes without being waited for:
   * the timer is a safety net, and a lost move only makes the reconciler look
   * at a run once more, or a little later.
   */
  private moveTimer(runId: string, at: number | null, withWake = true): void {
    const moved = at !== null ? this.setTimer(runId, at) : withWake ? this.clearTimer(runId) : this.redis.zrem(this.keys.timers(), runId);
    void moved.catch(() => undefined);
  }

  async claim(runId: string, token: string, leaseMs: number, request = ''): Promise<ClaimResult> {
    const reply = (await guarded(this.redis.claim(this.keys.run(runId), token, Date.now(), leaseMs, request))) as [number, ...unknown[]];
    switch (reply[0]) {
      case 0:
        return { kind: 'missing' };
      case 6:
        return { kind: 'spare' };
      case 2:
        return reply[2] ? { kind: 'finished', status: reply[1] as RunStatus, slotGroup: reply[2] as string } : { kind: 'finished', status: reply[1] as RunStatus };
      case 3:
        return { kind: 'busy', retryInMs: Number(reply[1]) };
      case 4:
        return { kind: 'claimed', ...splitRunHash(runId, flatPairs(reply[1] as string[])), stop: 'cancelled' };
      case 5:
        return { kind: 'claimed', ...splitRunHash(runId, flatPairs(reply[1] as string[])), stop: 'timeout' };
      default:
        // The timer is left where it is: if it comes due while this execution
        // runs, the reconciler sees a live lease and moves it past the lease itself.
        return { kind: 'claimed', ...splitRunHash(runId, flatPairs(reply[1] as string[])), takeover: reply[2] === 1 };
    }
  }

  async saveSteps(runId: string, token: string, steps: readonly StepWrite[]): Promise<void> {
    checkFenced(runId, await guarded(this.redis.saveSteps(this.keys.run(runId), token, ...stepFields(steps))));
  }

  async touch(runId: string, token: string, leaseMs: number, markers: readonly StepWrite[] = []): Promise<void> {
    checkFenced(runId, await guarded(this.redis.touch(this.keys.run(runId), token, Date.now(), leaseMs, ...stepFields(markers))));
  }

  async suspend(runId: string, token: string, wakeAt: number, resumeJob: string | undefined, steps: readonly StepWrite[], now = Date.now()): Promise<void> {
    if (resumeJob !== undefined) {
      checkFenced(runId, await guarded(this.redis.suspend(this.keys.run(runId), token, now, wakeAt, resumeJob, ...stepFields(steps))));
      this.moveTimer(runId, wakeAt + TIMER_GRACE_MS);
      return;
    }
    // Whole milliseconds: the wakes score is these digits followed by three more (see park-timed-3.lua).
    wakeAt = Math.ceil(wakeAt);
    if (!this.cluster) {
      const reply = await guarded(this.redis.parkTimed(this.keys.run(runId), this.keys.timers(), this.keys.wakes(), token, now, wakeAt, runId, ...stepFields(steps)));
      checkParked(runId, reply);
      return;
    }
    const reply = await guarded(this.redis.park(this.keys.run(runId), token, now, wakeAt, ...stepFields(steps)));
    const executions = checkParked(runId, reply);
    // Awaited: until it is there, only the run's old timer (left in place) would wake the run.
    await guarded(this.redis.zadd(this.keys.wakes(), wakeAt * 1000 + (executions % 1000), runId));
    this.moveTimer(runId, null, false);
  }

  async finish(runId: string, token: string, outcome: RunOutcome, steps: readonly StepWrite[], rewinds: readonly StepRewind[] = []): Promise<void> {
    const rewound = rewindFields(rewinds);
    // Off a Cluster the run's timer and wake-up are dropped by the same script: no write of their own per run.
    const keys = this.cluster
      ? [2, this.keys.run(runId), this.keys.mailbox(runId)]
      : [4, this.keys.run(runId), this.keys.mailbox(runId), this.keys.timers(), this.keys.wakes()];
    const ok = await guarded(
      this.redis.finish(
        ...keys,
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
    if (this.cluster) this.moveTimer(runId, null);
  }

  async cancel(runId: string, reason: string, error: ErrorInfo): Promise<CancelReply> {
    const reply = (await guarded(this.redis.cancel(this.keys.run(runId), this.keys.mailbox(runId), Date.now(), reason, JSON.stringify(error), this.retentionMs))) as [number, ...string[]];
    switch (reply[0]) {
      case 0:
        return { kind: 'missing' };
      case 1:
        this.moveTimer(runId, null);
        return { kind: 'cancelled', flowId: reply[1], input: reply[2] === '' ? undefined : reply[2], ...(reply[3] ? { wakeParent: reply[3] } : {}) };
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

  async recordTrace(runId: string, token: string, traceparent: string): Promise<void> {
    await guarded(this.redis.setTrace(this.keys.run(runId), token, traceparent));
  }

  async forgetUnknownFlow(runId: string): Promise<void> {
    await guarded(this.redis.hdel(this.keys.run(runId), 'unknownFlowSince'));
  }

  async get(runId: string): Promise<{ run: RunRecord; steps: Map<string, StepRecord> } | null> {
    const fields = await guarded(this.redis.hgetall(this.keys.run(runId)));
    if (!fields.flowId) return null;
    return splitRunHash(runId, Object.entries(fields));
  }

  list(query: { flowIds: readonly string[]; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }> {
    return this.index.list(query);
  }

  async listChildren(parentRunId: string, query: { flowIds?: readonly string[]; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }> {
    const parent = await this.get(parentRunId);
    if (!parent) return { runs: [] };
    const children = [...parent.steps.values()].filter((step) => step.kind === 'child' && step.childRunId).sort((a, b) => b.seq - a.seq);
    const page = await this.index.listOf(
      children.map((step) => step.childRunId!),
      { ...query, from: query.cursor === undefined ? 0 : Math.floor(Number(query.cursor)) || 0 },
    );
    return { runs: page.runs, ...(page.next !== undefined ? { nextCursor: String(page.next) } : {}) };
  }

  counts(flowId: string, sample: number): Promise<{ total: number; statuses: RunStatus[]; counted: number }> {
    return this.index.counts(flowId, sample);
  }

  sweepIndexes(flowIds: readonly string[], cutoff: number): Promise<number> {
    return this.index.sweep(flowIds, cutoff);
  }

  async status(runId: string): Promise<RunStatus | null> {
    return (await guarded(this.redis.hget(this.keys.run(runId), 'status'))) as RunStatus | null;
  }

  async ending(runId: string): Promise<RunEnding | null> {
    const [status, output, error] = await guarded(this.redis.hmget(this.keys.run(runId), 'status', 'output', 'error'));
    if (!status) return null;
    return { status: status as RunStatus, ...(output ? { output } : {}), ...(error ? { error: JSON.parse(error) as ErrorInfo } : {}) };
  }


}
