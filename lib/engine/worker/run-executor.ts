import { decode, encode } from '../codec';
import { errorInfo } from '../error-info';
import { StepFailedError } from '../../common/errors';
import { LeaseLostError } from '../errors';
import { Execution, type ExecutionSettings } from './execution';
import { Lease } from './lease';
import { NODE_ID } from './node-id';
import type { FlowDefinition } from '../flow-definition';
import type { RunQueue, RunStore } from '../ports';
import type { FlowFailure } from '../../common/types';
import type { ResolvedOptions } from '../options';

export interface RunExecutorSettings extends Pick<ResolvedOptions, 'leaseMs' | 'retries' | 'backoff' | 'timeout' | 'maxPayloadBytes' | 'logger'> {
  store: RunStore;
  queue: RunQueue;
  flows: ReadonlyMap<string, FlowDefinition>;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

// A worker that does not know a run's flow (say, mid rolling deploy) hands the run back for a node that does.
const UNKNOWN_FLOW_RETRY_MS = 5000;

/**
 * Executes one run once: claim it (one round trip for the whole state),
 * replay the flow from the top, run new steps inline, and end by finishing,
 * failing or parking the run. Called by the queue worker per job.
 */
export class RunExecutor {
  private readonly active = new Set<Execution>();
  /** Flows already warned about a step attempt without any timeout (once per flow and process). */
  private readonly warnedUntimed = new Set<string>();

  constructor(private readonly settings: RunExecutorSettings) {}

  /**
   * Shutdown past its grace period: stop every execution in hand and give its
   * run back, so another node resumes it now rather than after the lease.
   * The step that was running may run again there (at-least-once).
   */
  releaseAll(): void {
    for (const ctx of this.active) void ctx.stop({ kind: 'released' });
  }

  async execute(runId: string): Promise<void> {
    const { store, queue, leaseMs, logger } = this.settings;
    const lease = new Lease(runId, store, leaseMs);
    const claim = await lease.claim();
    if (claim.kind === 'missing') {
      logger.warn(`Dropped a job for run "${runId}": no such run (expired or deleted).`);
      return;
    }
    if (claim.kind === 'finished') return;
    if (claim.kind === 'busy') {
      // Another execution holds the run; look again when its lease would run out.
      await queue.enqueueResume(runId, Date.now() + claim.retryInMs + 1);
      return;
    }
    const flow = this.settings.flows.get(claim.run.flowId);
    if (!flow) {
      logger.warn(`Run "${runId}" is of flow "${claim.run.flowId}", which this node does not have; handed back.`);
      await lease.release();
      await queue.enqueueResume(runId, Date.now() + UNKNOWN_FLOW_RETRY_MS);
      return;
    }
    const defaults = flow.options?.defaults;
    let ctx: Execution;
    const settings: ExecutionSettings = {
      lease,
      leaseMs,
      node: NODE_ID,
      retries: defaults?.retries ?? this.settings.retries,
      backoff: defaults?.backoff ?? this.settings.backoff,
      timeout: defaults?.timeout ?? this.settings.timeout,
      maxPayloadBytes: this.settings.maxPayloadBytes,
      onStepError: (failure) => this.callHooks(flow.hooks?.onError, ctx, failure),
      onUntimedAttempt: this.warnedUntimed.has(flow.id) ? undefined : (stepKey) => this.warnUntimed(flow.id, stepKey),
    };
    ctx = new Execution(claim.run, decode(claim.run.input), claim.steps, settings);
    this.active.add(ctx);
    lease.startHeartbeat((err) => {
      if (err instanceof LeaseLostError) void ctx.stop({ kind: 'lease-lost' });
    });
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
      // A released run is handed over at once; the steps still running here cannot be waited for.
      if (ctx.interrupt?.kind !== 'released') await ctx.settle();
      await this.conclude(ctx, flow, outcome);
    } catch (err) {
      if (!(err instanceof LeaseLostError)) throw err;
    } finally {
      lease.stopHeartbeat();
      this.active.delete(ctx);
    }
  }

  private async conclude(ctx: Execution, flow: FlowDefinition, outcome: Outcome | undefined): Promise<void> {
    const interrupt = ctx.interrupt;
    if (interrupt?.kind === 'lease-lost') return;
    if (interrupt?.kind === 'infra') throw interrupt.error;
    if (interrupt?.kind === 'released') {
      await ctx.lease.release(ctx.attemptsToHandBack());
      await this.settings.queue.enqueueResume(ctx.runId, Date.now());
      return;
    }
    if (interrupt?.kind === 'suspend') {
      await ctx.lease.suspend(interrupt.wakeAt);
      await this.settings.queue.enqueueResume(ctx.runId, interrupt.wakeAt);
      return;
    }
    if (interrupt?.kind === 'fatal') return this.fail(ctx, flow, interrupt.error, interrupt.stepKey);
    if (outcome!.ok) return this.complete(ctx, flow, outcome!.value);
    return this.fail(ctx, flow, outcome!.error);
  }

  private async complete(ctx: Execution, flow: FlowDefinition, value: unknown): Promise<void> {
    let output: string | undefined;
    try {
      output = encode(value, `Output of flow "${flow.id}"`);
    } catch (err) {
      return this.fail(ctx, flow, err);
    }
    await ctx.lease.finish({ status: 'completed', output });
    await this.callHooks(flow.hooks?.onSuccess, ctx, decode(output));
  }

  private async fail(ctx: Execution, flow: FlowDefinition, error: unknown, stepKey?: string): Promise<void> {
    const failure: FlowFailure = { error: errorInfo(error) };
    if (error instanceof StepFailedError) {
      failure.stepKey = error.stepKey;
      failure.attempt = error.attempts;
      failure.error = { name: error.name, message: error.message };
    } else if (stepKey) {
      failure.stepKey = stepKey;
    }
    await ctx.lease.finish({ status: 'failed', error: { ...failure.error, stepKey: failure.stepKey } });
    await this.callHooks(flow.hooks?.onFail, ctx, failure);
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

  /** Hooks are the user's code: their errors are logged, never allowed to change the run's outcome. */
  private async callHooks<A>(hooks: Array<(ctx: Execution, arg: A) => unknown> | undefined, ctx: Execution, arg: A): Promise<void> {
    for (const hook of hooks ?? []) {
      try {
        await hook(ctx, arg);
      } catch (err) {
        this.settings.logger.error(`A hook of flow "${ctx.flowId}" threw (run "${ctx.runId}"): ${(err as Error)?.message}`, (err as Error)?.stack);
      }
    }
  }
}
