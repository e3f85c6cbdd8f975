import type { RetryStore, RetryStoreResult } from '../ports';
import type { RunStatus } from '../../common/types';
import type { RedisClient } from './connection';
import { RunKeys } from './keys';
import { guarded } from './guarded';
import { defineScriptFiles } from './scripts';

/** How many earlier errors a run keeps in its view across retries. */
export const MAX_PREVIOUS_ERRORS = 10;

/** The RetryStore on Redis: one script over the run hash and its mailbox (lua/retry-2.lua). */
export class RedisRetryStore implements RetryStore {
  private readonly redis: ReturnType<typeof defineScriptFiles<'retryRun'>>;
  private readonly keys: RunKeys;

  constructor(client: RedisClient, prefix: string) {
    this.redis = defineScriptFiles(client, { retryRun: 'retry-2.lua' });
    this.keys = new RunKeys(prefix);
  }

  async retry(runId: string, now: number): Promise<RetryStoreResult> {
    const reply = (await guarded(this.redis.retryRun(this.keys.run(runId), this.keys.mailbox(runId), now, MAX_PREVIOUS_ERRORS))) as [number, unknown?];
    if (reply[0] === 0) return { kind: 'missing' };
    if (reply[0] === 2) return { kind: 'not-retriable', status: reply[1] as RunStatus };
    return { kind: 'queued' };
  }
}
