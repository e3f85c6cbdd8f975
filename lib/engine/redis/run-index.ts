import type { RunStatus } from '../../common/types';
import type { RunRecord } from '../ports';
import type { RedisClient } from './connection';
import type { RunKeys } from './keys';
import { flatPairs, toRun } from './run-fields';
import { guarded } from './guarded';

/** The run fields a list needs: never the input, output or steps, however large they are. */
const SUMMARY_FIELDS = ['flowId', 'status', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt', 'wakeAt', 'executions', 'error', 'retries', 'previousErrors', 'scheduleId', 'slotAt', 'parentRunId', 'parentStep', 'slotGroup', 'slotWaitAt'] as const;

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

/**
 * The per-flow indexes behind listRuns: sorted sets of run ids scored by
 * creation time, read newest first with a cursor, and swept of runs whose
 * records have expired.
 */
export class RedisRunIndex {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RunKeys,
  ) {}

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

  /**
   * One page of the runs `runIds` names, in that order, from position `from`;
   * `next` is where the following page starts. For short lists (a parent's children).
   */
  async listOf(runIds: readonly string[], query: { status?: RunStatus; flowIds?: readonly string[]; limit: number; from: number }): Promise<{ runs: RunRecord[]; next?: number }> {
    const runs: RunRecord[] = [];
    for (let at = query.from; at < runIds.length; at += query.limit) {
      const ids = runIds.slice(at, at + query.limit);
      const records = await guarded(Promise.all(ids.map((runId) => this.redis.hmget(this.keys.run(runId), ...SUMMARY_FIELDS))));
      for (let i = 0; i < ids.length; i++) {
        const values = records[i];
        if (!values[0]) continue;
        const fields = new Map(SUMMARY_FIELDS.flatMap((name, j) => (values[j] === null ? [] : [[name, values[j]!] as [string, string]])));
        if (query.status && fields.get('status') !== query.status) continue;
        if (query.flowIds && !query.flowIds.includes(fields.get('flowId')!)) continue;
        runs.push(toRun(ids[i], fields));
        if (runs.length === query.limit) return { runs, ...(at + i + 1 < runIds.length ? { next: at + i + 1 } : {}) };
      }
    }
    return { runs };
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

  /**
   * How many runs the flow's index holds, and the statuses of its newest `sample`: one ZCARD and
   * ZREVRANGE, then one HGET per run sent back to back. Index entries of expired runs count in
   * `total` until the sweeper drops them; they are left out of the statuses.
   */
  async counts(flowId: string, sample: number): Promise<{ total: number; statuses: RunStatus[]; counted: number }> {
    const index = this.keys.flowRuns(flowId);
    const [total, ids] = await guarded(Promise.all([this.redis.zcard(index), this.redis.zrevrange(index, 0, sample - 1)]));
    const statuses = await guarded(Promise.all(ids.map((runId) => this.redis.hget(this.keys.run(runId), 'status'))));
    return { total, statuses: statuses.filter((status): status is RunStatus => status !== null), counted: ids.length };
  }

  async sweep(flowIds: readonly string[], cutoff: number): Promise<number> {
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
