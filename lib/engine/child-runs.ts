import { RunNotFoundError } from '../common/errors';
import type { Duration } from '../common/duration';
import { isFinished } from '../common/run-status';
import type { Clock } from './clock';
import type { EngineLogger } from './flow-definition';
import type { ParentLink, RunEnding, RunQueue, RunStore } from './ports';
import { TIMER_GRACE_MS } from './redis/run-store';
import type { RunCreator } from './run-creator';
import type { ChildRuns } from './worker/primitives/child';

/** Why a child is cancelled with its parent (its RunCancelledError message). */
export function parentCancelledReason(parentRunId: string): string {
  return `Parent run "${parentRunId}" was cancelled.`;
}

/**
 * Child runs as the engine sees them: starting one for a parent's step,
 * telling the parent that its child ended, and cancelling a parent's children
 * with it. Parent and child may live in different Cluster slots and queue
 * partitions, so nothing here spans both in one script: a child's end reaches
 * its parent as a queue job in the resume lane, with the parent's timer moved
 * first so the reconciler wakes the parent if that job is never added.
 */
export class ChildRunService implements ChildRuns {
  constructor(
    private readonly deps: { creator: RunCreator; store: RunStore; queue: RunQueue; logger: EngineLogger; clock: Clock },
  ) {}

  start(flowId: string, input: unknown, child: { runId: string; timeout?: Duration; capMs?: number; parent: ParentLink }): Promise<{ created: boolean }> {
    return this.deps.creator.startChild(flowId, input, child);
  }

  ending(runId: string): Promise<RunEnding | null> {
    return this.deps.store.ending(runId);
  }

  /** Whether any of the runs has ended (or is gone): a parent that just parked for them must be woken now. */
  async anyEnded(runIds: readonly string[]): Promise<boolean> {
    const statuses = await Promise.all(runIds.map((runId) => this.deps.store.status(runId)));
    return statuses.some((status) => status === null || isFinished(status));
  }

  /**
   * Whether the parent of a child about to execute was cancelled: a child
   * created while its parent was being cancelled (after the cascade read the
   * parent's steps), or whose parent's node died before the cascade, ends
   * cancelled here instead of running orphaned. A failed read says no.
   */
  async parentCancelled(parentRunId: string): Promise<boolean> {
    return (await this.deps.store.status(parentRunId).catch(() => null)) === 'cancelled';
  }

  /**
   * Called before a child that its parent waits for is ended: the parent's
   * timer comes due shortly, so should this node die between the child's end
   * and the wake-up, the reconciler wakes the parent within seconds. If the
   * child's end then fails instead, the parent only wakes once for nothing.
   */
  async armParent(parentRunId: string): Promise<void> {
    await this.deps.store.setTimer(parentRunId, this.deps.clock.now() + TIMER_GRACE_MS).catch(() => undefined);
  }

  /** Wakes the parent now, in the resume lane (ahead of new runs), on whichever node takes it. */
  async wakeParent(parentRunId: string): Promise<void> {
    const { store, queue } = this.deps;
    const now = this.deps.clock.now();
    // As a signal wakes a run: the job's id is recorded with the run first, so the reconciler sees it waiting in a backlog.
    const jobId = queue.resumeJobId(parentRunId);
    await Promise.all([store.setTimer(parentRunId, now + TIMER_GRACE_MS), store.setResumeJob(parentRunId, jobId)]);
    await queue.enqueueResumeJob(parentRunId, now, jobId);
  }

  /** wakeParent, with a failure logged: the run's end is recorded already, and the parent's timer catches a lost wake-up. */
  wakeParentQuietly(parentRunId: string, childRunId: string): Promise<void> {
    return this.wakeParent(parentRunId).catch((err: Error) => {
      this.deps.logger.warn(`Child run "${childRunId}" ended, but waking its parent "${parentRunId}" failed (${err.message}); the reconciler wakes it from its timer.`);
    });
  }

  /**
   * Cancels every unfinished child of a cancelled run. Each child's own
   * cancel cascades further down the same way, wherever it ends.
   */
  async cancelChildren(runId: string, cancel: (childRunId: string, reason: string) => Promise<unknown>): Promise<void> {
    const found = await this.deps.store.get(runId);
    if (!found) return;
    const children = [...found.steps.values()].flatMap((step) => (step.kind === 'child' && step.childRunId ? [step.childRunId] : []));
    const reason = parentCancelledReason(runId);
    await Promise.all(
      children.map((childRunId) =>
        cancel(childRunId, reason).catch((err: Error) => {
          // A child the parent never got to create (its step failed) has no run: nothing to cancel.
          if (err instanceof RunNotFoundError) return;
          this.deps.logger.warn(`Run "${runId}" was cancelled, but cancelling its child run "${childRunId}" failed: ${err.message}`);
        }),
      ),
    );
  }
}
