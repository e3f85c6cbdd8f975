import { GoTickError, PayloadTooLargeError, RunFinishedError, RunNotFoundError, RunNotRetriableError, SignalMailboxFullError } from '../common/errors';
import type { CancelOptions, CancelResult, RetryResult } from '../common/types';
import { decode } from './codec';
import type { FlowDefinition } from './flow-definition';
import type { ResolvedOptions } from './options';
import type { CancelNudges, MailboxStore, RetryStore, RunQueue, RunStore } from './ports';
import { TIMER_GRACE_MS } from './redis/run-store';
import { isRunId } from './run-id';
import { runHooks } from './worker/hooks';
import { checkSignalName, encodeSignal } from './worker/primitives/signals';
import { cancelledErrorInfo } from './worker/run-endings';

const MAX_CANCEL_REASON = 1000;

export interface RunControlDeps {
  store: RunStore;
  queue: RunQueue;
  mailbox: MailboxStore;
  retries: RetryStore;
  nudges: CancelNudges;
  flows: ReadonlyMap<string, FlowDefinition>;
  settings: Pick<ResolvedOptions, 'logger' | 'maxPayloadBytes' | 'maxSignalsPerRun' | 'clock'>;
  /**
   * Where a run's end by cancel is announced, on the node that ended it (child runs cascade from here);
   * `wakeParent`: the parent that waits for the run (ctx.child), to wake.
   */
  onCancelled: (runId: string, wakeParent?: string) => void;
  /** Told of a parked run this node cancelled (no execution ends it, so no interceptor sees it): metrics count it. */
  onParkedRunCancelled?: (flowId: string) => void;
}

/** Cancel, signal and retry: acting on runs that already exist, from any node. */
export class RunControl {
  constructor(private readonly deps: RunControlDeps) {}

  /**
   * Cancels a run. Queued or sleeping: cancelled here and now, in one script,
   * and its OnFlowCancel hooks run on this node (if this node registered the
   * flow). Running: the request is stored in the run and every worker node is
   * nudged; the node executing it aborts its tasks and ends it cancelled, and
   * runs the hooks there. From the moment this returns `cancelled`, the run
   * can end no other way. A finished run answers its status, unchanged.
   * @throws RunNotFoundError, GoTickError (bad reason), RedisUnavailableError
   */
  async cancel(runId: string, options: CancelOptions = {}): Promise<CancelResult> {
    if (!isRunId(runId)) throw new RunNotFoundError(String(runId));
    const reason = options.reason ?? '';
    if (typeof reason !== 'string' || reason.length > MAX_CANCEL_REASON) {
      throw new GoTickError(`cancel: reason must be a string of at most ${MAX_CANCEL_REASON} characters.`);
    }
    const { store } = this.deps;
    const reply = await store.cancel(runId, reason, cancelledErrorInfo(runId, reason));
    switch (reply.kind) {
      case 'missing':
        throw new RunNotFoundError(runId);
      case 'finished':
        return { runId, status: reply.status };
      case 'requested':
        // The request is durable already; a lost nudge only means the run stops at its next heartbeat or write.
        await this.deps.nudges.publish(runId, reply.reason).catch((err: Error) => {
          this.deps.settings.logger.warn(`Cancel of run "${runId}" is stored, but the nudge to its node failed (${err.message}); it stops at its next heartbeat.`);
        });
        return { runId, status: 'cancelled' };
      case 'cancelled': {
        // Only the call whose script cancelled the parked run gets here: the hooks run once.
        const flow = this.deps.flows.get(reply.flowId);
        if (flow) {
          await runHooks(this.deps.settings.logger, 'OnFlowCancel', flow.hooks?.onCancel, { runId, flowId: reply.flowId, input: decode(reply.input) }, { reason: reason || undefined });
        } else {
          this.deps.settings.logger.warn(`Run "${runId}" was cancelled, but this node does not have flow "${reply.flowId}": its OnFlowCancel hooks did not run.`);
        }
        this.deps.onCancelled(runId, reply.wakeParent);
        this.deps.onParkedRunCancelled?.(reply.flowId);
        return { runId, status: 'cancelled' };
      }
    }
  }

  /**
   * Puts a signal in the run's mailbox (FIFO per name, kept until a wait
   * takes it) and, if the run sleeps waiting for `name`, wakes it at once.
   */
  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    checkSignalName(name);
    const { store, queue } = this.deps;
    if (!isRunId(runId)) throw new RunNotFoundError(String(runId));
    const sentAt = this.deps.settings.clock.now();
    const encoded = encodeSignal(name, payload, sentAt);
    const maxBytes = this.deps.settings.maxPayloadBytes;
    if (encoded.length * 3 > maxBytes && Buffer.byteLength(encoded) > maxBytes) {
      throw new PayloadTooLargeError(`Payload of signal "${name}"`, Buffer.byteLength(encoded), maxBytes);
    }
    const sent = await this.deps.mailbox.send(runId, name, encoded, this.deps.settings.maxSignalsPerRun);
    switch (sent.kind) {
      case 'missing':
        throw new RunNotFoundError(runId);
      case 'finished':
        throw new RunFinishedError(runId, sent.status);
      case 'full':
        throw new SignalMailboxFullError(runId, this.deps.settings.maxSignalsPerRun);
    }
    if (!sent.wake) return;
    // The resume lane: no priority, so it goes ahead of new runs. The timer
    // catches a wake-up lost should this process die before the job is added;
    // the job's id, recorded first, lets the reconciler see it waiting in a backlog.
    const jobId = queue.resumeJobId(runId);
    await Promise.all([store.setTimer(runId, sentAt + TIMER_GRACE_MS), store.setResumeJob(runId, jobId)]);
    await queue.enqueueResumeJob(runId, sentAt, jobId);
  }

  /**
   * Sends a failed or cancelled run back to the queue: completed steps keep
   * their results, the step that failed starts over with fresh attempts, and
   * the run's earlier error stays in its view (`previousErrors`, `retries`).
   */
  async retry(runId: string): Promise<RetryResult> {
    const { store, queue } = this.deps;
    if (!isRunId(runId)) throw new RunNotFoundError(String(runId));
    const now = this.deps.settings.clock.now();
    const result = await this.deps.retries.retry(runId, now);
    if (result.kind === 'missing') throw new RunNotFoundError(runId);
    if (result.kind === 'not-retriable') throw new RunNotRetriableError(runId, result.status);
    // A fresh job id (the resume lane), never the trigger's: its id may still be held by BullMQ.
    // Recorded with the run first, so the reconciler can see the job waiting in a backlog.
    const jobId = queue.resumeJobId(runId);
    await Promise.all([store.setTimer(runId, now + TIMER_GRACE_MS), store.setResumeJob(runId, jobId)]);
    await queue.enqueueResumeJob(runId, now, jobId);
    return { runId, status: 'queued' };
  }

}
