import type { EngineLogger } from '../flow-definition';
import type { RunQueue, RunStore } from '../ports';
import { isFinished } from '../../common/run-status';
import { RedisUnavailableError } from '../../common/errors';

/** How far a re-enqueued run's timer moves on, so nodes do not re-enqueue it on every pass. */
const RETRY_MS = 5000;
const BATCH = 200;

/**
 * The safety net under the queue. Run state and queue jobs are separate
 * writes; a crash between them, a Redis that loses its last second of AOF, or
 * a job dropped by the queue would leave a run that nothing wakes. Every live
 * run has a timer (see RunStore.overdue); a run still not picked up well past
 * it gets a fresh job. Duplicates are harmless: the claim lets one execution in.
 */
export class Reconciler {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly store: RunStore,
    private readonly queue: RunQueue,
    private readonly logger: EngineLogger,
  ) {}

  start(everyMs: number): void {
    // Jittered so many nodes started together do not sweep in lockstep.
    const tick = () => {
      this.timer = setTimeout(() => void this.pass().finally(tick), everyMs * (0.75 + Math.random() / 2));
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** One look at the overdue runs; returns how many were re-enqueued. */
  async pass(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let requeued = 0;
    try {
      const now = Date.now();
      for (const run of await this.store.overdue(now, BATCH)) {
        if (run.status === null || isFinished(run.status)) {
          await this.store.clearTimer(run.runId);
          continue;
        }
        // A run held by a live execution is not lost: look again when its lease would have run out.
        if (run.status === 'running' && run.leaseUntil !== undefined && run.leaseUntil > now) {
          await this.store.setTimer(run.runId, run.leaseUntil + RETRY_MS);
          continue;
        }
        await this.store.setTimer(run.runId, now + RETRY_MS);
        // Keyed by the retry window: nodes passing in the same window add one
        // job, the next window adds a new one, so a job left behind in BullMQ's
        // failed set (which blocks its id from being added again) cannot stall
        // the run. Never the trigger's own id, for the same reason.
        await this.queue.enqueueResume(run.runId, now, `x${Math.floor(now / RETRY_MS)}`);
        requeued++;
      }
      if (requeued) this.logger.warn(`Re-enqueued ${requeued} run(s) that no queue job was going to wake.`);
    } catch (err) {
      // An outage is logged once by the connection watch; a line per pass would only repeat it.
      if (!(err instanceof RedisUnavailableError)) this.logger.warn(`Reconciler pass failed (will retry): ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
    return requeued;
  }
}
