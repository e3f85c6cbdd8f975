import { decode } from '../codec';
import { ConcurrencyKeyError, FlowTimeoutError, UnknownFlowError } from '../../common/errors';
import { CancelRequestedError, LeaseLostError } from '../errors';
import { Execution, type ExecutionSettings } from './execution';
import { Lease } from './lease';
import { NODE_ID } from './node-id';
import type { Interrupt } from './interrupt';
import type { FlowDefinition } from '../flow-definition';
import type { ClaimResult, MailboxStore, RunOutcome, RunQueue, RunRecord, RunStore } from '../ports';
import { runHooks } from './hooks';
import { RunLog } from './run-log';
import { cancelledErrorInfo, RunEndings, type Outcome, type RunInHand } from './run-endings';
import { iso } from '../run-view';
import type { ResolvedOptions } from '../options';
import { parseSlotGroup, type ConcurrencyRule } from '../concurrency';
import type { ConcurrencyGate, HeldSlot } from './concurrency-gate';
import { parentCancelledReason, type ChildRunService } from '../child-runs';
import type { ExecutionEnd, RunInterceptInfo } from '../../common/interceptors';
import type { RunChain, StepChain } from '../observe/interceptor-chain';
import { attachTrace } from '../observe/execution-trace';

export interface RunExecutorSettings extends Pick<ResolvedOptions, 'leaseMs' | 'retries' | 'backoff' | 'timeout' | 'maxPayloadBytes' | 'logger' | 'unknownFlowGraceMs' | 'clock'> {
  store: RunStore;
  queue: RunQueue;
  mailbox: MailboxStore;
  flows: ReadonlyMap<string, FlowDefinition>;
  /**
   * Told after this node ended a run cancelled (hooks done): the engine
   * cancels the run's unfinished children from there.
   */
  onCancelled?: (runId: string) => void;
  /** Flows with a concurrency cap (by flow id) and the gate their executions pass. */
  slots?: { gate: ConcurrencyGate; rules: ReadonlyMap<string, ConcurrencyRule> };
  /** Child runs: started by ctx.child / ctx.startChild; a child's end wakes the parent waiting for it. */
  children?: ChildRunService;
  /** The interceptors' chains (tracing, metrics, the user's); undefined when there are none. */
  interceptRun?: RunChain;
  interceptStep?: StepChain;
  /** Tracing is on: executions get the trigger's trace context and record their own (see execution-trace). */
  tracing?: boolean;
  /** Wakes this node's parked runs (none: every park keeps a delayed queue job, as before the pump). */
  timerPump?: { wakeBy(at: number): void };
}



// A worker that does not know a run's flow (say, mid rolling deploy) hands the run back for a node that does.
const UNKNOWN_FLOW_RETRY_MS = 5000;

/**
 * Executes one run once: claim it (one round trip for the whole state),
 * replay the flow from the top, run new steps inline, and end by finishing,
 * failing or parking the run. Called by the queue worker per job.
 */
export class RunExecutor {
  /** The executions in hand, by run: where a cancel nudge finds the one to stop. */
  private readonly active = new Map<string, Execution>();
  private readonly log: RunLog;
  /** Flows already warned about a step attempt without any timeout (once per flow and process). */
  private readonly warnedUntimed = new Set<string>();
  private readonly endings: RunEndings;

  constructor(private readonly settings: RunExecutorSettings) {
    this.log = new RunLog(settings.logger);
    this.endings = new RunEndings(settings, this.log);
  }

  /**
   * Shutdown past its grace period: stop every execution in hand and give its
   * run back, so another node resumes it now rather than after the lease.
   * The step that was running may run again there (at-least-once).
   */
  releaseAll(): void {
    for (const ctx of this.active.values()) void ctx.stop({ kind: 'released' });
  }

  /**
   * A cancel nudge (pub/sub) for a run: if this node runs it, stop it now
   * rather than at its next heartbeat or step write. Every running task's
   * signal aborts with RunCancelledError.
   */
  nudge(runId: string, reason: string): void {
    void this.active.get(runId)?.stop({ kind: 'cancelled', reason });
  }

  async execute(runId: string, request?: string): Promise<void> {
    const { store, queue, leaseMs, logger, clock } = this.settings;
    const lease = new Lease(runId, store, leaseMs, this.settings.mailbox);
    const claim = await lease.claim(request);
    if (claim.kind === 'missing') {
      logger.warn(`Dropped a job for run "${runId}": no such run (expired or deleted).`);
      return;
    }
    if (claim.kind === 'finished') return this.leaveSlotGroup(runId, claim.slotGroup);
    if (claim.kind === 'spare') return;
    if (claim.kind === 'busy') {
      // Another execution holds the run; look again when its lease would run out.
      await queue.enqueueResume(runId, clock.now() + claim.retryInMs + 1);
      return;
    }
    const flow = this.settings.flows.get(claim.run.flowId);
    if (!flow) return this.withoutFlow(lease, claim.run, claim.stop);
    // The flow is back (or a node with it took the run): its grace starts afresh should it go missing again.
    if (claim.run.unknownFlowSince !== undefined) await store.forgetUnknownFlow(runId);
    // A capped flow's execution takes its slot first: a run that has to wait in line is no
    // execution (not counted, not intercepted).
    const rule = claim.stop ? undefined : this.settings.slots?.rules.get(flow.id);
    let slot: HeldSlot | undefined;
    if (rule) {
      slot = await this.enterSlot(rule, lease, flow, claim.run, decode(claim.run.input));
      if (!slot) return;
    }
    const intercept = this.settings.interceptRun;
    if (intercept === undefined) {
      await this.executeClaimed(lease, claim, flow, slot);
      return;
    }
    const run = claim.run;
    const info: RunInterceptInfo = {
      flowId: flow.id,
      runId,
      execution: run.executions,
      attempt: (run.retries ?? 0) + 1,
      createdAt: run.createdAt,
      startedAt: run.startedAt ?? run.createdAt,
    };
    if (this.settings.tracing) attachTrace(info, { parent: run.traceparent, previous: run.lastTrace, record: (traceparent) => lease.recordTrace(traceparent) });
    await this.intercepted(intercept, info, () => this.executeClaimed(lease, claim, flow, slot));
  }

  /**
   * Runs the interceptors' run chain around the execution. They observe, they
   * cannot veto: the execution holds the lease and must end the run, so an
   * interceptor that throws first or never calls next() is logged and the
   * execution runs anyway. The execution's own errors go on to the queue.
   */
  private async intercepted(intercept: RunChain, info: RunInterceptInfo, execution: () => Promise<ExecutionEnd>): Promise<void> {
    let ran: Promise<ExecutionEnd> | undefined;
    let interceptorError: unknown;
    try {
      await intercept(info, () => (ran ??= execution()));
    } catch (err) {
      interceptorError = err;
    }
    const where = `run "${info.runId}" of flow "${info.flowId}" (execution ${info.execution})`;
    if (!ran) {
      const why = interceptorError === undefined ? 'returned without calling next()' : `threw before calling next(): ${(interceptorError as Error)?.message}`;
      this.settings.logger.error(`An interceptRun ${why}, for ${where}; the execution runs anyway (interceptors cannot veto an execution; cancel the run instead).`);
      ran = execution();
      interceptorError = undefined;
    }
    let failed = false;
    await ran.catch(() => (failed = true));
    // Its own error (an outage) surfaces as without interceptors; an interceptor that rethrew it adds nothing.
    if (failed) await ran;
    if (interceptorError !== undefined) {
      this.settings.logger.error(`An interceptRun threw after the execution of ${where} ended: ${(interceptorError as Error)?.message}`, (interceptorError as Error)?.stack);
    }
  }

  /** One execution of a claimed run of a flow this node has: the flow replayed and run, then the run concluded. */
  private async executeClaimed(lease: Lease, claim: Extract<ClaimResult, { kind: 'claimed' }>, flow: FlowDefinition, slot?: HeldSlot): Promise<ExecutionEnd> {
    const { leaseMs, logger, clock } = this.settings;
    const runId = claim.run.runId;
    const input = decode(claim.run.input);
    if (claim.run.wakeParent && claim.run.parentRunId) this.endings.expectParent(runId, claim.run.parentRunId);
    // One read per execution of a child run (never per step, never for other runs).
    const parent = claim.run.parentRunId;
    const orphaned = !claim.stop && parent !== undefined && this.settings.children !== undefined && (await this.settings.children.parentCancelled(parent));
    if (claim.stop || orphaned) {
      // Its node died with a cancel pending, or the deadline passed while it was parked, or its parent
      // was cancelled (a child the cascade could not see): end it, run nothing.
      const run: RunInHand = { runId, flowId: flow.id, input, lease };
      const ending = orphaned
        ? { kind: 'cancelled' as const, reason: parentCancelledReason(parent!) }
        : claim.stop === 'cancelled'
          ? { kind: 'cancelled' as const, reason: claim.run.cancelRequested ?? '' }
          : timeoutOf(claim.run);
      try {
        return await this.endings.conclude(run, flow, undefined, ending, claim.run.deadline);
      } catch (err) {
        if (!(err instanceof LeaseLostError)) throw err;
        return { status: 'lost' };
      } finally {
        // An orphaned child took its slot before its parent's cancel was seen: given back. Ended while
        // in a concurrency line (say, at its deadline): it leaves the line.
        this.endings.forgetParent(runId);
        await slot?.free();
        await this.leaveSlotGroup(runId, claim.run.slotGroup);
      }
    }
    const defaults = flow.options?.defaults;
    const hookRun = { runId, flowId: flow.id, input };
    const settings: ExecutionSettings = {
      lease,
      leaseMs,
      node: NODE_ID,
      eagerMarkers: claim.takeover === true,
      retries: defaults?.retries ?? this.settings.retries,
      backoff: defaults?.backoff ?? this.settings.backoff,
      timeout: defaults?.timeout ?? this.settings.timeout,
      maxPayloadBytes: this.settings.maxPayloadBytes,
      clock,
      onStepError: (failure) => {
        this.log.attemptFailed(hookRun, failure.stepKey!, failure.attempt!, failure.error);
        return runHooks(logger, 'OnFlowError', flow.hooks?.onError, hookRun, failure);
      },
      onUntimedAttempt: this.warnedUntimed.has(flow.id) ? undefined : (stepKey) => this.warnUntimed(flow.id, stepKey),
      children: this.settings.children,
      interceptStep: this.settings.interceptStep,
    };
    this.log.started(hookRun, claim.run.executions);
    const ctx = new Execution(claim.run, input, claim.steps, settings);
    this.active.set(runId, ctx);
    // A slot that lapsed under a stalled execution may be taken by another run: give way.
    slot?.startHeartbeat(() => {
      logger.warn(`Run "${runId}" of flow "${flow.id}" lost its concurrency slot (its execution stalled past the lease); handed back to wait for one.`);
      void ctx.stop({ kind: 'released' });
    });
    lease.startHeartbeat((err) => {
      if (err instanceof LeaseLostError) void ctx.stop({ kind: 'lease-lost' });
      else if (err instanceof CancelRequestedError) void ctx.stop({ kind: 'cancelled', reason: err.reason });
    }, ctx.inFlight);
    // The whole-run deadline, a timer per execution (not per step).
    const deadline = claim.run.deadline;
    const deadlineTimer = deadline === undefined ? undefined : clock.setTimer(() => void ctx.stop(timeoutOf(claim.run)), deadline - clock.now());
    try {
      const outcome = await Promise.race<Outcome | undefined>([
        Promise.resolve()
          .then(() => flow.handler(ctx))
          .then(
            (value) => ({ ok: true, value }),
            (error) => ({ ok: false, error }),
          ),
        ctx.interrupted.then(() => undefined),
      ]);
      // A released, cancelled or timed-out run ends at once: the steps still running here (their
      // signal aborted) cannot be waited for, and their late writes are refused (no lease any more).
      const stop = ctx.interrupt?.kind;
      if (stop !== 'released' && stop !== 'cancelled' && stop !== 'timeout') await ctx.settle();
      else await ctx.settleEndingWaits();
      const end = await this.endings.conclude(ctx, flow, outcome, ctx.interrupt, deadline);
      // Given back once the run is parked or ended (or its lease lost: the slot is this token's alone).
      await slot?.free();
      return end;
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err;
      await slot?.free();
      return { status: 'lost' };
    } finally {
      // Any other throw (Redis down) leaves the slot to lapse with the lease.
      slot?.stopHeartbeat();
      deadlineTimer?.cancel();
      lease.stopHeartbeat();
      if (this.active.get(runId) === ctx) this.active.delete(runId);
      this.endings.forgetParent(runId);
    }
  }

  /**
   * Takes the execution's concurrency slot, or parks the run in its group's
   * line (undefined: the execution ends here). A key function that fails
   * fails the run; a cancel that came first ends it cancelled.
   */
  private async enterSlot(rule: ConcurrencyRule, lease: Lease, flow: FlowDefinition, run: RunRecord, input: unknown): Promise<HeldSlot | undefined> {
    const inHand: RunInHand = { runId: run.runId, flowId: flow.id, input, lease };
    try {
      return await this.settings.slots!.gate.enter(flow.id, rule, run, input, lease);
    } catch (err) {
      if (err instanceof LeaseLostError) return undefined;
      try {
        if (err instanceof CancelRequestedError) await this.endings.cancelled(inHand, flow, err.reason);
        else if (err instanceof ConcurrencyKeyError) await this.endings.conclude(inHand, flow, { ok: false, error: err }, undefined);
        else throw err;
      } catch (ending) {
        if (!(ending instanceof LeaseLostError)) throw ending;
      }
      return undefined;
    }
  }

  /** A run that ended while in a concurrency line (say, cancelled there) leaves it, handing on a slot handed to it. */
  private async leaveSlotGroup(runId: string, groupId: string | undefined): Promise<void> {
    const group = groupId ? parseSlotGroup(groupId) : undefined;
    const rule = group && this.settings.slots?.rules.get(group.flowId);
    if (group && rule) await this.settings.slots!.gate.leave(group, rule.limit, runId);
  }

  /**
   * A run of a flow this node does not have. Within the grace it is handed
   * back (not counted as an execution) for a node that has the flow, say
   * mid rolling deploy; past it, it fails with UnknownFlowError. Warned once
   * per run, at the first hand-back, whichever node makes it.
   */
  private async withoutFlow(lease: Lease, run: RunRecord, stop: 'cancelled' | 'timeout' | undefined): Promise<void> {
    const { logger, queue, unknownFlowGraceMs } = this.settings;
    const ref = { runId: run.runId, flowId: run.flowId };
    const now = this.settings.clock.now();
    let ending: Extract<RunOutcome, { error: unknown }> | undefined;
    if (stop === 'cancelled') {
      ending = { status: 'cancelled', error: cancelledErrorInfo(run.runId, run.cancelRequested ?? '') };
    } else if (stop === 'timeout') {
      const error = new FlowTimeoutError(run.runId, run.timeoutMs ?? 0);
      ending = { status: 'failed', error: { name: error.name, message: error.message } };
    } else if (run.unknownFlowSince !== undefined && now - run.unknownFlowSince >= unknownFlowGraceMs) {
      const error = new UnknownFlowError(
        run.flowId,
        [...this.settings.flows.keys()],
        `Run "${run.runId}" is of flow "${run.flowId}", which no worker node has had for ${Math.round((now - run.unknownFlowSince) / 1000)} s ` +
          '(renamed or removed in a deploy?). Deploy the flow again, then retry the run.',
      );
      ending = { status: 'failed', error: { name: error.name, message: error.message } };
    }
    try {
      if (ending) {
        // No flow here, so no hooks either: say so next to the ending.
        if (run.wakeParent && run.parentRunId) this.endings.expectParent(run.runId, run.parentRunId);
        await this.endings.finish({ runId: run.runId, lease }, ending).finally(() => this.endings.forgetParent(run.runId));
        if (ending.status === 'cancelled') {
          this.log.cancelled(ref);
          this.settings.onCancelled?.(run.runId);
        } else this.log.runFailed(ref, ending.error);
        logger.warn(`Run "${run.runId}" ended ${ending.status} on a node without its flow "${run.flowId}": the flow's hooks did not run.`);
        return;
      }
      const retryAt = now + UNKNOWN_FLOW_RETRY_MS;
      // Keyed by the retry window, so duplicate jobs of one run (a reconciler re-enqueue) merge instead of each handing it back.
      const jobId = queue.resumeJobId(run.runId, `u${Math.floor(retryAt / UNKNOWN_FLOW_RETRY_MS)}`);
      const { first, since } = await lease.handBack(retryAt, jobId);
      const message =
        `Run "${run.runId}" is of flow "${run.flowId}", which this node does not have (renamed or removed in a deploy?); ` +
        `handed back every ${UNKNOWN_FLOW_RETRY_MS / 1000} s for a node that has it. It fails with UnknownFlowError ` +
        `if none takes it by ${iso(since + unknownFlowGraceMs)} (unknownFlowGrace).`;
      if (first) logger.warn(message);
      else logger.debug?.(message);
      await queue.enqueueResumeJob(run.runId, retryAt, jobId);
    } catch (err) {
      // Another execution holds the run now, or a cancel came first: that one decides.
      if (err instanceof CancelRequestedError) return this.withoutFlow(lease, run, 'cancelled');
      if (!(err instanceof LeaseLostError)) throw err;
    }
  }

  private warnUntimed(flowId: string, stepKey: string): void {
    if (this.warnedUntimed.has(flowId)) return;
    this.warnedUntimed.add(flowId);
    this.settings.logger.warn(
      `Flow "${flowId}" ran step "${stepKey}" with no timeout: a step that never returns keeps its run "running" for ever. ` +
        'Set defaults.timeout (module or engine options, or @Flow(id, { defaults: { timeout } })), or a timeout on the step. ' +
        'This warning is given once per flow.',
    );
  }
}

function timeoutOf(run: RunRecord): Interrupt {
  return { kind: 'timeout', error: new FlowTimeoutError(run.runId, run.timeoutMs ?? 0) };
}
