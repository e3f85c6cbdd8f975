import { decode, encode } from '../codec';
import { errorInfo } from '../error-info';
import { ChildFlowFailedError, RunCancelledError, StepFailedError } from '../../common/errors';
import { CancelRequestedError } from '../errors';
import type { Lease } from './lease';
import type { Interrupt } from './interrupt';
import type { FlowDefinition } from '../flow-definition';
import type { MailboxStore, RunOutcome, RunQueue, StepRewind } from '../ports';
import type { ErrorInfo, FlowFailure } from '../../common/types';
import { runHooks } from './hooks';
import type { RunLog } from './run-log';
import type { ResolvedOptions } from '../options';
import type { ChildRunService } from '../child-runs';
import type { ExecutionEnd } from '../../common/interceptors';

/**
 * A park shorter than this keeps a delayed queue job of its own instead of a
 * timer-pump entry. Mostly these are runs woken a little early, by a node
 * whose clock runs ahead of this one's: parked again in the pump's set they
 * would be claimed at once by that node's pump, again and again, until this
 * clock caught up; a delayed job waits the remaining time out here. Short
 * sleeps cost no memory worth saving.
 */
export const SHORT_PARK_MS = 1000;

/** What ending a run needs: Execution has it, and so has a claim that must end without running the flow. */
export interface RunInHand {
  readonly runId: string;
  readonly flowId: string;
  readonly input: unknown;
  readonly lease: Lease;
  /** Puts back the steps of attempts in flight (an Execution's) when the run is handed back or ends under them. */
  rewinds?(): StepRewind[];
}

/** The error a cancelled run records, wherever it is cancelled. */
export function cancelledErrorInfo(runId: string, reason: string): ErrorInfo {
  const error = new RunCancelledError(runId, reason || undefined);
  return { name: error.name, message: error.message };
}

/** What the flow method did: returned a value or threw. */
export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface RunEndingsSettings extends Pick<ResolvedOptions, 'logger' | 'clock'> {
  queue: RunQueue;
  mailbox: MailboxStore;
  onCancelled?: (runId: string) => void;
  children?: ChildRunService;
  timerPump?: { wakeBy(at: number): void };
}

/**
 * How an execution ends a run it holds: completed, failed, cancelled, parked
 * or handed back, each written once (fenced by the lease) and followed by the
 * flow's hooks. Also ends, without running the flow, a claim that found a
 * cancel or a deadline. A child whose parent waits for it wakes the parent.
 */
export class RunEndings {
  /** Runs in hand whose parent waits for them (ctx.child), by run: their end must wake that parent. */
  private readonly waitingParents = new Map<string, string>();

  constructor(
    private readonly settings: RunEndingsSettings,
    private readonly log: RunLog,
  ) {}

  /** From now until forgetParent: ending this run wakes `parentRunId`, which waits for it. */
  expectParent(runId: string, parentRunId: string): void {
    this.waitingParents.set(runId, parentRunId);
  }

  forgetParent(runId: string): void {
    this.waitingParents.delete(runId);
  }

  /** Ends the run as the interrupt or outcome says; a cancel request found on the way wins over any other ending. */
  async conclude(ctx: RunInHand, flow: FlowDefinition, outcome: Outcome | undefined, interrupt: Interrupt | undefined, deadline?: number): Promise<ExecutionEnd> {
    try {
      return await this.concludeAs(ctx, flow, outcome, interrupt, deadline);
    } catch (err) {
      if (!(err instanceof CancelRequestedError)) throw err;
      return this.cancelled(ctx, flow, err.reason);
    }
  }

  private async concludeAs(ctx: RunInHand, flow: FlowDefinition, outcome: Outcome | undefined, interrupt: Interrupt | undefined, deadline?: number): Promise<ExecutionEnd> {
    if (interrupt?.kind === 'lease-lost') return { status: 'lost' };
    if (interrupt?.kind === 'infra') throw interrupt.error;
    if (interrupt?.kind === 'released') {
      const jobId = this.settings.queue.resumeJobId(ctx.runId);
      await ctx.lease.release(jobId, ctx.rewinds?.());
      await this.settings.queue.enqueueResumeJob(ctx.runId, this.settings.clock.now(), jobId);
      return { status: 'handed-back' };
    }
    if (interrupt?.kind === 'cancelled') return this.cancelled(ctx, flow, interrupt.reason);
    if (interrupt?.kind === 'timeout') return this.fail(ctx, flow, interrupt.error);
    if (interrupt?.kind === 'suspend') {
      // A parked run fails at its deadline, not at its wake time: it wakes at whichever comes first.
      const wakeAt = deadline === undefined ? interrupt.wakeAt : Math.min(interrupt.wakeAt, deadline);
      const { queue, mailbox, timerPump, clock } = this.settings;
      // Short parks keep a delayed queue job of their own (see SHORT_PARK_MS); the others are left to the timer pump.
      // The job's id goes into the run with the suspend (no extra round trip), so the reconciler can find the job.
      const jobId = timerPump && wakeAt - clock.now() >= SHORT_PARK_MS ? undefined : queue.resumeJobId(ctx.runId);
      await ctx.lease.suspend(wakeAt, jobId);
      this.log.parked(ctx, wakeAt);
      if (jobId === undefined) timerPump!.wakeBy(wakeAt);
      // A signal sent (or a child ended) between the wait's look and this suspend
      // found the run still running, so it did not wake it: look once more.
      const signalled =
        (interrupt.signals !== undefined && (await mailbox.holdsAny(ctx.runId, interrupt.signals))) ||
        (interrupt.children !== undefined && (await this.settings.children!.anyEnded(interrupt.children)));
      if (jobId !== undefined) await queue.enqueueResumeJob(ctx.runId, signalled ? clock.now() : wakeAt, jobId);
      else if (signalled) await queue.enqueueResume(ctx.runId, clock.now());
      return { status: 'parked', wakeAt };
    }
    if (interrupt?.kind === 'fatal') return this.fail(ctx, flow, interrupt.error, interrupt.stepKey);
    if (outcome!.ok) return this.complete(ctx, flow, outcome!.value);
    return this.fail(ctx, flow, outcome!.error);
  }

  private async complete(ctx: RunInHand, flow: FlowDefinition, value: unknown): Promise<ExecutionEnd> {
    let output: string | undefined;
    try {
      output = encode(value, `Output of flow "${flow.id}"`);
    } catch (err) {
      return this.fail(ctx, flow, err);
    }
    await this.finish(ctx, { status: 'completed', output });
    this.log.completed(ctx);
    await runHooks(this.settings.logger, 'OnFlowSuccess', flow.hooks?.onSuccess, ctx, decode(output));
    return { status: 'completed' };
  }

  /** Ends the run cancelled (fenced by the lease), then its OnFlowCancel hooks, once: only this write's success leads here. */
  async cancelled(ctx: RunInHand, flow: FlowDefinition, reason: string): Promise<ExecutionEnd> {
    await this.finish(ctx, { status: 'cancelled', error: cancelledErrorInfo(ctx.runId, reason) }, ctx.rewinds?.());
    this.log.cancelled(ctx);
    await runHooks(this.settings.logger, 'OnFlowCancel', flow.hooks?.onCancel, ctx, { reason: reason || undefined });
    this.settings.onCancelled?.(ctx.runId);
    return { status: 'cancelled' };
  }

  private async fail(ctx: RunInHand, flow: FlowDefinition, error: unknown, stepKey?: string): Promise<ExecutionEnd> {
    const failure: FlowFailure = { error: errorInfo(error) };
    if (error instanceof StepFailedError) {
      failure.stepKey = error.stepKey;
      failure.attempt = error.attempts;
      // The run shows the failing attempt's stack (the user's code), not the engine's rethrow.
      failure.error = { name: error.name, message: error.message, ...(error.cause.stack ? { stack: error.cause.stack } : {}) };
    } else if (error instanceof ChildFlowFailedError) {
      failure.stepKey = error.stepKey;
    } else if (stepKey) {
      failure.stepKey = stepKey;
    }
    await this.finish(ctx, { status: 'failed', error: { ...failure.error, stepKey: failure.stepKey } }, ctx.rewinds?.());
    this.log.runFailed(ctx, failure.error, failure.stepKey);
    await runHooks(this.settings.logger, 'OnFlowFail', flow.hooks?.onFail, ctx, failure);
    return { status: 'failed', error: { ...failure.error, stepKey: failure.stepKey } };
  }

  /**
   * Ends the run (fenced by its lease). A child whose parent waits for it
   * wakes the parent: its timer is moved first, so a crash between the two
   * only delays the wake-up to the reconciler's next look.
   */
  async finish(ctx: Pick<RunInHand, 'runId' | 'lease'>, outcome: RunOutcome, rewinds?: StepRewind[]): Promise<void> {
    const parent = this.waitingParents.get(ctx.runId);
    const children = this.settings.children;
    if (parent && children) await children.armParent(parent);
    await ctx.lease.finish(outcome, rewinds);
    if (parent && children) await children.wakeParentQuietly(parent, ctx.runId);
  }
}
