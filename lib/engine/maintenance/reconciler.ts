import type { EngineLogger } from '../flow-definition';
import type { OverdueRun, RunQueue, RunStore, WakeQueue } from '../ports';
import { isFinished } from '../../common/run-status';
import { PeriodicLook } from './periodic-look';

/** How far a re-enqueued run's timer moves on, so nodes do not re-enqueue it on every pass. */
const RETRY_MS = 5000;
const BATCH = 200;

/**
 * The safety net under the queue. Run state and queue jobs are separate
 * writes; a crash between them, a Redis that loses its last second of AOF, or
 * a job dropped by the queue would leave a run that nothing wakes. Every live
 * run has a timer (see RunStore.overdue); a run still not picked up well past
 * it gets a fresh job, unless its job is still there: in a backlog a job may
 * wait far longer than the timer's grace, and is not lost for that.
 */
export class Reconciler extends PeriodicLook {
  protected readonly name = 'Reconciler pass';

  constructor(
    private readonly store: RunStore,
    private readonly queue: RunQueue & WakeQueue,
    private readonly logger: EngineLogger,
  ) {
    super();
  }

  protected warn(message: string): void {
    this.logger.warn(message);
  }

  /** One look at the overdue runs; returns how many were re-enqueued. */
  protected async look(): Promise<number> {
    const requeued: string[] = [];
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
        // Waiting behind a backlog (or held by a worker whose lock BullMQ will recover): look again later.
        if (await this.hasJob(run, now)) continue;
        // The job may have just ended with the run moving on (a worker took it after we read the run):
        // judge by the run as it is now, read after the job was found gone.
        const fresh = await this.store.timerState(run.runId);
        if (fresh?.status !== run.status || fresh.resumeJob !== run.resumeJob || (fresh.leaseUntil ?? 0) > Date.now()) continue;
        // Keyed by the retry window: nodes passing in the same window add one
        // job, the next window adds a new one, so a job left behind in BullMQ's
        // failed set (which blocks its id from being added again) cannot stall
        // the run. Never the trigger's own id, for the same reason. Recorded
        // with the run first, so the next pass finds it however long it waits.
        const jobId = this.queue.resumeJobId(run.runId, `x${Math.floor(now / RETRY_MS)}`);
        await this.store.setResumeJob(run.runId, jobId);
        await this.queue.enqueueResumeJob(run.runId, now, jobId);
        requeued.push(run.runId);
      }
    } finally {
      // Also after a failed pass: the runs re-enqueued before it failed were re-enqueued.
      if (requeued.length) {
        const named = requeued.slice(0, 5).map((id) => `"${id}"`).join(', ') + (requeued.length > 5 ? ', ...' : '');
        this.logger.warn(`Re-enqueued ${requeued.length} run(s) that no queue job was going to wake: ${named}.`);
      }
    }
    return requeued.length;
  }

  /**
   * Whether a job due by now is still in the queue for the run: its
   * trigger's job, its last recorded resume job, or the timer pump's job. A job delayed further
   * (a sleep's resume, when a signal should have woken the run) does not count.
   */
  private async hasJob(run: OverdueRun, now: number): Promise<boolean> {
    if (run.resumeJob !== undefined && (await this.queue.hasLiveJob(run.runId, run.resumeJob, now))) return true;
    // A sleeping run the timer pump claimed: its job is named by the run's executions when it parked.
    if (run.status === 'sleeping' && run.executions !== undefined && (run.wakeAt ?? Infinity) <= now) {
      if (await this.queue.hasLiveJob(run.runId, this.queue.wakeJobId(run.runId, run.executions % 1000), now)) return true;
    }
    return run.status === 'queued' && (await this.queue.hasLiveJob(run.runId, undefined, now));
  }
}
