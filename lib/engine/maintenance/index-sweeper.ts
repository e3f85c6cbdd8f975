import type { EngineLogger } from '../flow-definition';
import type { RunStore } from '../ports';
import { RedisUnavailableError } from '../../common/errors';

/**
 * Index entries outlive the runs they point to (run records expire on their
 * own); a worker node sweeps them now and then so listing stays cheap and
 * Redis returns to its baseline.
 */
export class IndexSweeper {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: RunStore,
    private readonly flowIds: () => readonly string[],
    private readonly retentionMs: number,
    private readonly logger: EngineLogger,
  ) {}

  start(): void {
    if (this.retentionMs === 0) return;
    const everyMs = Math.min(Math.max(this.retentionMs / 4, 1000), 60_000);
    this.timer = setInterval(() => {
      this.store.sweepIndexes(this.flowIds(), Date.now() - this.retentionMs).catch((err: Error) => {
        // An outage is logged once by the connection watch; a line per sweep would only repeat it.
        if (!(err instanceof RedisUnavailableError)) this.logger.warn(`Index sweep failed (will retry): ${err.message}`);
      });
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
