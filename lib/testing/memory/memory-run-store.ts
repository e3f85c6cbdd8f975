import { CancelRequestedError, LeaseLostError } from '../../engine/errors';
import type { CancelReply, ClaimResult, OverdueRun, ParentLink, RunEnding, RunOutcome, RunRecord, RunStore, StepRecord, StepRewind, StepWrite } from '../../engine/ports';
import { num, splitRunHash, toRun } from '../../engine/redis/run-fields';
import { STEP_FIELD } from '../../engine/redis/keys';
import { packStep } from '../../engine/redis/step-codec';
import type { ErrorInfo, RunStatus } from '../../common/types';
import { TERMINAL, type Hash, type MemoryDb } from './memory-db';

/** As the Redis store: how late past its due time a run may be before the reconciler steps in. */
const TIMER_GRACE_MS = 5000;

/** The run fields a list carries: never input, output or steps. */
const SUMMARY_FIELDS = ['flowId', 'status', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt', 'wakeAt', 'executions', 'error', 'retries', 'previousErrors', 'scheduleId', 'slotAt', 'parentRunId', 'parentStep', 'slotGroup', 'slotWaitAt'];

/** Cursors as the Redis index writes them: "<score>:<runId>". */
const CURSOR = /^(\d+(?:\.\d+)?)(?::([A-Za-z0-9_.-]{1,200}))?$/;

function writeSteps(hash: Hash, steps: readonly StepWrite[]): void {
  for (const [key, record] of steps) hash.set(STEP_FIELD + key, packStep(record));
}

function rewind(hash: Hash, rewinds: readonly StepRewind[]): void {
  for (const [key, record] of rewinds) {
    if (record) hash.set(STEP_FIELD + key, packStep(record));
    else hash.delete(STEP_FIELD + key);
  }
}

/** Whole state of a run, copied: callers never hold the stored hash. */
function snapshot(runId: string, hash: Hash): { run: RunRecord; steps: Map<string, StepRecord> } {
  return splitRunHash(runId, [...hash.entries()]);
}

/**
 * The RunStore in memory. Each method is the Lua script of the Redis store
 * with the same name, done synchronously (so, like the script, atomically:
 * nothing else runs between its first and last line), with the same fencing
 * by lease token and the same replies.
 */
export class MemoryRunStore implements RunStore {
  private sequence = 0;

  constructor(
    private readonly db: MemoryDb,
    private readonly retentionMs: number,
    /** The kit's child mocks: the encoded output a child run of a mocked flow is created ended with. */
    private readonly childMock: (flowId: string) => { output?: string } | undefined = () => undefined,
  ) {}

  private now(): number {
    return this.db.clock.now();
  }

  async create(run: {
    runId: string;
    flowId: string;
    input?: string;
    createdAt: number;
    dueAt: number;
    timeoutMs?: number;
    request?: string;
    traceparent?: string;
    scheduleId?: string;
    slotAt?: number;
    parent?: ParentLink;
  }): Promise<boolean> {
    // Without a request id, one no stored run carries: the sequence moves on with every run created.
    return this.createOne(run, run.request ?? `m${this.sequence}`);
  }

  async createMany(runs: ReadonlyArray<{ runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number; traceparent?: string }>): Promise<boolean[]> {
    const base = `b${this.sequence}:`;
    return runs.map((run, i) => this.createOne(run, base + i));
  }

  private createOne(
    run: { runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number; traceparent?: string; scheduleId?: string; slotAt?: number; parent?: ParentLink },
    request: string,
  ): boolean {
    const existing = this.db.run(run.runId);
    if (existing) return existing.get('createdBy') === request;
    const score = run.createdAt * 1000 + (this.sequence++ % 1000);
    const hash = this.db.newRun(run.runId);
    hash.set('flowId', run.flowId).set('status', 'queued').set('createdAt', String(run.createdAt)).set('updatedAt', String(run.createdAt));
    hash.set('executions', '0').set('createdBy', request);
    if (run.input !== undefined && run.input !== '') hash.set('input', run.input);
    if (run.timeoutMs !== undefined) hash.set('timeoutMs', String(run.timeoutMs));
    if (run.traceparent) hash.set('traceparent', run.traceparent);
    if (run.scheduleId !== undefined) hash.set('scheduleId', run.scheduleId).set('slotAt', String(run.slotAt ?? ''));
    if (run.parent) {
      hash.set('parentRunId', run.parent.runId).set('parentStep', run.parent.stepKey);
      if (run.parent.waits) hash.set('wakeParent', '1');
    }
    let index = this.db.indexes.get(run.flowId);
    if (!index) this.db.indexes.set(run.flowId, (index = new Map()));
    if (!index.has(run.runId)) index.set(run.runId, score);
    this.db.timers.set(run.runId, run.dueAt + TIMER_GRACE_MS);
    const mocked = run.parent ? this.childMock(run.flowId) : undefined;
    if (mocked) this.endMocked(run.runId, hash, mocked.output);
    return true;
  }

  /**
   * A child of a flow the test mocked (mockChild) is created ended, with the
   * mocked output and no execution: its job finds it finished, and its parent
   * reads its ending as it reads a real child's.
   */
  private endMocked(runId: string, hash: Hash, output: string | undefined): void {
    const now = String(this.now());
    hash.set('status', 'completed').set('finishedAt', now).set('updatedAt', now);
    if (output !== undefined && output !== '') hash.set('output', output);
    this.db.expireRun(runId, this.retentionMs);
    this.db.publishEnd(runId);
    this.db.timers.delete(runId);
  }

  async cancel(runId: string, reason: string, error: ErrorInfo): Promise<CancelReply> {
    const hash = this.db.run(runId);
    if (!hash) return { kind: 'missing' };
    const status = hash.get('status')!;
    if (TERMINAL.has(status)) return { kind: 'finished', status: status as RunStatus };
    const now = String(this.now());
    if (status === 'running') {
      if (!hash.has('cancelRequested')) hash.set('cancelRequested', reason).set('cancelAt', now);
      return { kind: 'requested', reason: hash.get('cancelRequested') ?? '' };
    }
    hash.set('status', 'cancelled').set('finishedAt', now).set('updatedAt', now).set('error', JSON.stringify(error));
    hash.set('cancelRequested', reason).set('cancelAt', now);
    for (const field of ['lease', 'leaseUntil', 'wakeAt']) hash.delete(field);
    this.db.expireRun(runId, this.retentionMs);
    this.db.publishEnd(runId);
    this.db.timers.delete(runId);
    const wakeParent = hash.get('wakeParent') === '1' ? hash.get('parentRunId') : undefined;
    return { kind: 'cancelled', flowId: hash.get('flowId')!, input: hash.get('input') || undefined, ...(wakeParent ? { wakeParent } : {}) };
  }

  async claim(runId: string, token: string, leaseMs: number, request = ''): Promise<ClaimResult> {
    const hash = this.db.run(runId);
    if (!hash) return { kind: 'missing' };
    const status = hash.get('status')!;
    if (TERMINAL.has(status)) {
      const slotGroup = hash.get('slotGroup');
      return slotGroup ? { kind: 'finished', status: status as RunStatus, slotGroup } : { kind: 'finished', status: status as RunStatus };
    }
    if (request !== '' && status !== 'queued' && hash.get('createdBy') !== request) return { kind: 'spare' };
    const now = this.now();
    const holder = hash.get('lease');
    const leaseEnd = Number(hash.get('leaseUntil') ?? 0);
    if (holder && holder !== token && leaseEnd > now) return { kind: 'busy', retryInMs: leaseEnd - now };
    hash.set('lease', token).set('leaseUntil', String(now + leaseMs)).set('status', 'running').set('updatedAt', String(now));
    if (!hash.has('startedAt')) hash.set('startedAt', String(now));
    hash.delete('wakeAt');
    hash.delete('slotWaitAt');
    if (holder !== token) hash.set('executions', String(Number(hash.get('executions') ?? 0) + 1));
    if (hash.has('cancelRequested')) return { kind: 'claimed', ...snapshot(runId, hash), stop: 'cancelled' };
    const timeoutMs = hash.get('timeoutMs');
    if (timeoutMs !== undefined) {
      if (!hash.has('deadline')) hash.set('deadline', String(now + Number(timeoutMs)));
      if (Number(hash.get('deadline')) <= now) return { kind: 'claimed', ...snapshot(runId, hash), stop: 'timeout' };
    }
    return { kind: 'claimed', ...snapshot(runId, hash), takeover: holder !== undefined && holder !== token };
  }

  /** The fence of every execution write: the lease must be ours, and no cancel requested. */
  private fenced(runId: string, token: string): Hash {
    const hash = this.db.run(runId);
    if (!hash || hash.get('lease') !== token) throw new LeaseLostError(runId);
    const cancelRequested = hash.get('cancelRequested');
    if (cancelRequested !== undefined) throw new CancelRequestedError(runId, cancelRequested);
    return hash;
  }

  async saveSteps(runId: string, token: string, steps: readonly StepWrite[]): Promise<void> {
    writeSteps(this.fenced(runId, token), steps);
  }

  async touch(runId: string, token: string, leaseMs: number, markers: readonly StepWrite[] = []): Promise<void> {
    const hash = this.db.run(runId);
    if (!hash || hash.get('lease') !== token) throw new LeaseLostError(runId);
    const now = this.now();
    hash.set('leaseUntil', String(now + leaseMs)).set('updatedAt', String(now));
    const cancelRequested = hash.get('cancelRequested');
    if (cancelRequested !== undefined) throw new CancelRequestedError(runId, cancelRequested);
    writeSteps(hash, markers);
  }

  async suspend(runId: string, token: string, wakeAt: number, resumeJob: string, steps: readonly StepWrite[]): Promise<void> {
    const hash = this.fenced(runId, token);
    writeSteps(hash, steps);
    hash.set('status', 'sleeping').set('wakeAt', String(wakeAt)).set('updatedAt', String(this.now())).set('resumeJob', resumeJob);
    hash.delete('lease');
    hash.delete('leaseUntil');
    this.db.timers.set(runId, wakeAt + TIMER_GRACE_MS);
  }

  async finish(runId: string, token: string, outcome: RunOutcome, steps: readonly StepWrite[], rewinds: readonly StepRewind[] = []): Promise<void> {
    const hash = this.db.run(runId);
    if (!hash || hash.get('lease') !== token) throw new LeaseLostError(runId);
    const cancelRequested = hash.get('cancelRequested');
    // Once a cancel is requested, only the cancelled ending may land.
    if (cancelRequested !== undefined && outcome.status !== 'cancelled') throw new CancelRequestedError(runId, cancelRequested);
    writeSteps(hash, steps);
    rewind(hash, rewinds);
    const now = String(this.now());
    hash.set('status', outcome.status).set('finishedAt', now).set('updatedAt', now).set('finishedBy', token);
    if (outcome.status === 'completed') {
      if (outcome.output !== undefined && outcome.output !== '') hash.set('output', outcome.output);
    } else {
      hash.set('error', JSON.stringify(outcome.error));
    }
    for (const field of ['lease', 'leaseUntil', 'wakeAt']) hash.delete(field);
    this.db.expireRun(runId, this.retentionMs);
    this.db.publishEnd(runId);
    this.db.timers.delete(runId);
  }

  async release(runId: string, token: string, resumeJob: string, rewinds: readonly StepRewind[] = []): Promise<void> {
    const hash = this.db.run(runId);
    // As the script: a release without the lease changes nothing, and the caller does not care.
    if (!hash || hash.get('lease') !== token) return;
    rewind(hash, rewinds);
    hash.set('status', 'queued').set('updatedAt', String(this.now())).set('resumeJob', resumeJob);
    hash.delete('lease');
    hash.delete('leaseUntil');
    this.db.timers.set(runId, this.now() + TIMER_GRACE_MS);
  }

  async handBack(runId: string, token: string, retryAt: number, resumeJob: string): Promise<{ first: boolean; since: number }> {
    const hash = this.db.run(runId);
    if (!hash || hash.get('lease') !== token) throw new LeaseLostError(runId);
    const now = String(this.now());
    hash.set('status', 'queued').set('updatedAt', now).set('resumeJob', resumeJob);
    hash.delete('lease');
    hash.delete('leaseUntil');
    const executions = Number(hash.get('executions') ?? 0) - 1;
    hash.set('executions', String(executions));
    if (executions <= 0) hash.delete('startedAt');
    const first = !hash.has('unknownFlowSince');
    if (first) hash.set('unknownFlowSince', now);
    this.db.timers.set(runId, retryAt + TIMER_GRACE_MS);
    return { first, since: Number(hash.get('unknownFlowSince')) };
  }

  async recordTrace(runId: string, token: string, traceparent: string): Promise<void> {
    // As set-trace-1.lua: only the execution holding the lease writes.
    const hash = this.db.run(runId);
    if (hash?.get('lease') === token) hash.set('lastTrace', traceparent);
  }

  async forgetUnknownFlow(runId: string): Promise<void> {
    this.db.run(runId)?.delete('unknownFlowSince');
  }

  async get(runId: string): Promise<{ run: RunRecord; steps: Map<string, StepRecord> } | null> {
    const hash = this.db.run(runId);
    return hash ? snapshot(runId, hash) : null;
  }

  async overdue(now: number, limit: number): Promise<OverdueRun[]> {
    const due = [...this.db.timers].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]).slice(0, limit);
    return due.map(([runId]) => this.readTimerState(runId));
  }

  async timerState(runId: string): Promise<OverdueRun | null> {
    const state = this.readTimerState(runId);
    return state.status === null ? null : state;
  }

  private readTimerState(runId: string): OverdueRun {
    const hash = this.db.run(runId);
    return {
      runId,
      status: (hash?.get('status') as RunStatus | undefined) ?? null,
      wakeAt: num(hash?.get('wakeAt')),
      leaseUntil: num(hash?.get('leaseUntil')),
      resumeJob: hash?.get('resumeJob'),
    };
  }

  async setResumeJob(runId: string, jobId: string): Promise<void> {
    this.db.run(runId)?.set('resumeJob', jobId);
  }

  async setTimer(runId: string, at: number): Promise<void> {
    this.db.timers.set(runId, at);
  }

  async clearTimer(runId: string): Promise<void> {
    this.db.timers.delete(runId);
  }

  async sweepIndexes(flowIds: readonly string[], cutoff: number): Promise<number> {
    let dropped = 0;
    for (const flowId of flowIds) {
      const index = this.db.indexes.get(flowId);
      if (!index) continue;
      for (const [runId, score] of index) {
        if (score > cutoff * 1000 || this.db.run(runId)) continue;
        index.delete(runId);
        this.db.dropMailbox(runId);
        dropped++;
      }
    }
    return dropped;
  }

  async status(runId: string): Promise<RunStatus | null> {
    return (this.db.run(runId)?.get('status') as RunStatus | undefined) ?? null;
  }

  async ending(runId: string): Promise<RunEnding | null> {
    const hash = this.db.run(runId);
    if (!hash) return null;
    const output = hash.get('output');
    const error = hash.get('error');
    return { status: hash.get('status') as RunStatus, ...(output ? { output } : {}), ...(error ? { error: JSON.parse(error) as ErrorInfo } : {}) };
  }

  /** As the Redis store: the parent's `child` steps, newest first; the cursor is a position in that list. */
  async listChildren(parentRunId: string, query: { flowIds?: readonly string[]; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }> {
    const parent = this.db.run(parentRunId);
    if (!parent) return { runs: [] };
    const ids = [...snapshot(parentRunId, parent).steps.values()]
      .filter((step) => step.kind === 'child' && step.childRunId)
      .sort((a, b) => b.seq - a.seq)
      .map((step) => step.childRunId!);
    const runs: RunRecord[] = [];
    for (let i = query.cursor === undefined ? 0 : Math.floor(Number(query.cursor)) || 0; i < ids.length; i++) {
      const hash = this.db.run(ids[i]);
      if (!hash) continue;
      if (query.status && hash.get('status') !== query.status) continue;
      if (query.flowIds && !query.flowIds.includes(hash.get('flowId')!)) continue;
      runs.push(toRun(ids[i], new Map(SUMMARY_FIELDS.flatMap((name) => (hash.has(name) ? [[name, hash.get(name)!] as [string, string]] : [])))));
      if (runs.length === query.limit) return { runs, ...(i + 1 < ids.length ? { nextCursor: String(i + 1) } : {}) };
    }
    return { runs };
  }

  /** As the Redis index: every entry counts in `total`, the statuses are read from the newest `sample` (expired ones left out). */
  async counts(flowId: string, sample: number): Promise<{ total: number; statuses: RunStatus[]; counted: number }> {
    const index = [...(this.db.indexes.get(flowId) ?? [])].sort(([a, x], [b, y]) => y - x || (a < b ? 1 : a > b ? -1 : 0));
    const newest = index.slice(0, sample);
    const statuses = newest.flatMap(([runId]) => {
      const status = this.db.run(runId)?.get('status') as RunStatus | undefined;
      return status ? [status] : [];
    });
    return { total: index.length, statuses, counted: newest.length };
  }

  /** Newest first by (score, runId), both descending, as the Redis sorted sets order them; the cursor names the last run returned. */
  async list(query: { flowIds: readonly string[]; status?: RunStatus; limit: number; cursor?: string }): Promise<{ runs: RunRecord[]; nextCursor?: string }> {
    const match = query.cursor === undefined ? null : CURSOR.exec(query.cursor);
    const after = match ? { score: Number(match[1]), runId: match[2] ?? '' } : undefined;
    const entries: Array<{ flowId: string; runId: string; score: number }> = [];
    for (const flowId of query.flowIds) {
      for (const [runId, score] of this.db.indexes.get(flowId) ?? []) {
        // A bare "<score>" cursor reads as "everything below that score".
        if (after && (score > after.score || (score === after.score && (after.runId === '' || runId >= after.runId)))) continue;
        entries.push({ flowId, runId, score });
      }
    }
    entries.sort((a, b) => b.score - a.score || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0));
    const runs: RunRecord[] = [];
    for (let i = 0; i < entries.length; i++) {
      const { flowId, runId, score } = entries[i];
      const hash = this.db.run(runId);
      if (!hash) {
        // Past retention: the index entry goes lazily, as in Redis.
        this.db.indexes.get(flowId)?.delete(runId);
        this.db.dropMailbox(runId);
        continue;
      }
      if (query.status && hash.get('status') !== query.status) continue;
      runs.push(toRun(runId, new Map(SUMMARY_FIELDS.flatMap((name) => (hash.has(name) ? [[name, hash.get(name)!] as [string, string]] : [])))));
      if (runs.length === query.limit) return { runs, ...(i + 1 < entries.length ? { nextCursor: `${score}:${runId}` } : {}) };
    }
    return { runs };
  }
}
