import type { RetryStore, RetryStoreResult } from '../../engine/ports';
import { STEP_FIELD } from '../../engine/redis/keys';
import { unpackStep } from '../../engine/redis/step-codec';
import type { RunStatus } from '../../common/types';
import type { MemoryDb } from './memory-db';

/** As the Redis store: how many earlier errors a run keeps across retries. */
const MAX_PREVIOUS_ERRORS = 10;

/** The RetryStore in memory: lua/retry-2.lua, step for step. */
export class MemoryRetryStore implements RetryStore {
  constructor(private readonly db: MemoryDb) {}

  async retry(runId: string, now: number): Promise<RetryStoreResult> {
    const hash = this.db.run(runId);
    if (!hash) return { kind: 'missing' };
    const status = hash.get('status')!;
    if (status !== 'failed' && status !== 'cancelled') return { kind: 'not-retriable', status: status as RunStatus };
    const error = hash.get('error');
    if (error) {
      const previous = JSON.parse(hash.get('previousErrors') ?? '[]') as unknown[];
      const entry = JSON.parse(error) as Record<string, unknown>;
      const finishedAt = hash.get('finishedAt');
      if (finishedAt) entry.failedAt = Number(finishedAt);
      delete entry.stack;
      previous.push(entry);
      hash.set('previousErrors', JSON.stringify(previous.slice(-MAX_PREVIOUS_ERRORS)));
    }
    // Every failed step starts over with fresh attempts.
    for (const [field, value] of [...hash]) {
      if (field.startsWith(STEP_FIELD) && unpackStep(value).status === 'failed') hash.delete(field);
    }
    hash.set('status', 'queued').set('updatedAt', String(now)).set('retries', String(Number(hash.get('retries') ?? 0) + 1));
    for (const field of ['error', 'finishedAt', 'output', 'cancelRequested', 'deadline', 'wakeAt', 'lease', 'leaseUntil', 'unknownFlowSince', 'slotWaitAt']) hash.delete(field);
    this.db.persistRun(runId);
    return { kind: 'queued' };
  }
}
