import { randomUUID } from 'node:crypto';
import { checkTime, toMs, type Duration } from '../common/duration';
import { GoTickError, InvalidDurationError, InvalidRunIdError, PayloadTooLargeError, RedisUnavailableError, UnknownFlowError } from '../common/errors';
import type { TriggerItem, TriggerManyOptions, TriggerOptions, TriggerResult } from '../common/types';
import { encode } from './codec';
import type { FlowDefinition } from './flow-definition';
import type { ResolvedOptions } from './options';
import type { ParentLink, RunQueue, RunStore } from './ports';
import { requestId } from './request-id';
import { isRunId } from './run-id';
import type { TriggerTracer } from './observe/tracing';

/** A checked run, ready to write. */
type PreparedRun = { runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number; traceparent?: string; parent?: ParentLink };

/** Runs written per pipeline and bulk add in triggerMany. */
const TRIGGER_BATCH = 1000;

export interface RunCreatorDeps {
  /** The store on the producer's connection, so a run's job add follows its record on the same socket. */
  creator: RunStore;
  store: RunStore;
  queue: RunQueue;
  flows: ReadonlyMap<string, FlowDefinition>;
  settings: Pick<ResolvedOptions, 'maxPayloadBytes' | 'clock'>;
  /** Tracing on: each trigger runs in its span, whose context the run stores. */
  traceTrigger?: TriggerTracer;
}

/** Starting runs: checks a trigger's arguments, writes the run and enqueues its job. */
export class RunCreator {
  constructor(private readonly deps: RunCreatorDeps) {}

  /**
   * Starts a run. With an explicit runId the call is idempotent: a second
   * trigger with the same id starts nothing and reports `created: false`.
   */
  async trigger(flowId: string, input: unknown, options: TriggerOptions): Promise<TriggerResult> {
    const run = this.prepareRun(flowId, input, options);
    const trace = this.deps.traceTrigger;
    return trace === undefined ? this.write(run) : trace(flowId, { runId: run.runId }, (traceparent) => this.write({ ...run, traceparent }));
  }

  /**
   * Creates a child run (idempotent: its id is derived from the parent's) tied
   * to its parent, and enqueues it. Its whole-run timeout, given or its flow's,
   * is cut to `capMs` (what the parent has left before its own deadline).
   * @throws UnknownFlowError, NotSerializableError, PayloadTooLargeError, InvalidDurationError, RedisUnavailableError
   */
  async startChild(flowId: string, input: unknown, child: { runId: string; timeout?: Duration; capMs?: number; parent: ParentLink }): Promise<TriggerResult> {
    const run: PreparedRun = { ...this.prepareRun(flowId, input, { runId: child.runId, timeout: child.timeout }), parent: child.parent };
    if (child.capMs !== undefined) run.timeoutMs = Math.max(1, Math.min(run.timeoutMs ?? Infinity, child.capMs));
    // Traced like a trigger: inside the parent's step, the child's trace hangs under the parent's execution.
    const trace = this.deps.traceTrigger;
    return trace === undefined ? this.write(run) : trace(flowId, { runId: run.runId }, (traceparent) => this.write({ ...run, traceparent }));
  }

  private async write(run: PreparedRun): Promise<TriggerResult> {
    const { queue } = this.deps;
    // One round trip: the job add goes out right behind the create, on the same
    // connection, so Redis runs them in that order (no worker can take the job
    // before the run exists) and the trigger waits for both replies at once.
    // The add does not wait to learn whether the run was new: for a run still
    // queued it heals a trigger that died between the two writes (the job id
    // dedupes a job still waiting); for a run already under way or finished it
    // is a spare job that the claim turns away without touching the run (it
    // carries this call's request id, which is not the run's createdBy). A
    // crash between the two writes is the reconciler's, from the run's timer.
    try {
      const request = requestId();
      const [created] = await Promise.all([this.deps.creator.create({ ...run, request }), queue.enqueueNew(run.runId, run.dueAt - run.createdAt, request)]);
      return { runId: run.runId, created };
    } catch (err) {
      // A failed call does not prove nothing was written (the run may exist and
      // will then execute): the caller gets the id to retry with, safely.
      if (err instanceof RedisUnavailableError) err.runId = run.runId;
      throw err;
    }
  }

  /**
   * Starts many runs of one flow: each item is `{ input?, runId?, delay?, timeout? }`
   * (its own options over the shared `options`), answered in order. Idempotent
   * per runId like trigger. Every item is checked before anything is written;
   * the runs are then written in pipelined batches of 1,000 and enqueued with
   * one bulk add per batch.
   * @throws UnknownFlowError, InvalidRunIdError, InvalidDurationError, NotSerializableError, PayloadTooLargeError (naming the item)
   */
  triggerMany(flowId: string, items: ReadonlyArray<TriggerItem>, options: TriggerManyOptions): Promise<TriggerResult[]> {
    const trace = this.deps.traceTrigger;
    if (trace === undefined) return this.writeMany(flowId, items, options);
    return trace(flowId, Array.isArray(items) ? items.length : 0, (traceparent) => this.writeMany(flowId, items, options, traceparent));
  }

  private async writeMany(flowId: string, items: ReadonlyArray<TriggerItem>, options: TriggerManyOptions, traceparent?: string): Promise<TriggerResult[]> {
    if (!Array.isArray(items)) throw new GoTickError(`triggerMany: items must be an array of { input?, runId?, delay?, timeout? }; got ${typeof items}.`);
    const runs = items.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw new GoTickError(`triggerMany: item ${i} must be an object { input?, runId?, delay?, timeout? }; wrap a bare input as { input }.`);
      }
      try {
        return this.prepareRun(flowId, item.input, { delay: item.delay ?? options.delay, timeout: item.timeout ?? options.timeout, runId: item.runId });
      } catch (err) {
        if (err instanceof GoTickError && !(err instanceof UnknownFlowError)) err.message = `triggerMany item ${i}: ${err.message}`;
        throw err;
      }
    });
    const { store, queue } = this.deps;
    const results: TriggerResult[] = [];
    for (let from = 0; from < runs.length; from += TRIGGER_BATCH) {
      const batch = runs.slice(from, from + TRIGGER_BATCH);
      const created = await this.deps.creator.createMany(traceparent === undefined ? batch : batch.map((run) => ({ ...run, traceparent })));
      // As in trigger: a run that exists and is still queued gets its job again (deduped by job id).
      const queued = await Promise.all(batch.map((run, i) => (created[i] ? true : store.status(run.runId).then((status) => status === 'queued'))));
      const toEnqueue = batch.filter((_, i) => queued[i]).map((run) => ({ runId: run.runId, delayMs: run.dueAt - run.createdAt }));
      if (toEnqueue.length) await queue.enqueueNewMany(toEnqueue);
      batch.forEach((run, i) => results.push({ runId: run.runId, created: created[i] }));
    }
    return results;
  }

  /**
   * Starts the run of a schedule's slot, idempotent by its runId like trigger.
   * The input was checked and encoded when the schedule was made. The flow
   * need not be registered on this node (any node fires any schedule's slots):
   * the run then waits for a node that has it, as any run does.
   */
  async triggerSlot(slot: { flowId: string; input?: string; runId: string; scheduleId: string; slotAt: number }): Promise<TriggerResult> {
    const timeout = this.deps.flows.get(slot.flowId)?.options?.timeout;
    const createdAt = this.deps.settings.clock.now();
    const request = requestId();
    const run = { ...slot, createdAt, dueAt: createdAt, timeoutMs: timeout === undefined ? undefined : toMs(timeout, 'timeout'), request };
    const [created] = await Promise.all([this.deps.creator.create(run), this.deps.queue.enqueueNew(slot.runId, 0, request)]);
    return { runId: slot.runId, created };
  }

  /** Checks a trigger's arguments and builds the run record to write. */
  private prepareRun(flowId: string, input: unknown, options: TriggerOptions): PreparedRun {
    const flow = this.deps.flows.get(flowId);
    if (!flow) throw new UnknownFlowError(flowId, [...this.deps.flows.keys()].sort());
    const runId = options.runId ?? randomUUID();
    if (!isRunId(runId)) throw new InvalidRunIdError(runId);
    const delayMs = options.delay === undefined ? 0 : toMs(options.delay, 'delay');
    if (delayMs > 0) checkTime(this.deps.settings.clock.now() + delayMs, `delay ${JSON.stringify(options.delay)} (start time)`);
    const timeout = options.timeout ?? flow.options?.timeout;
    const timeoutMs = timeout === undefined ? undefined : toMs(timeout, 'timeout');
    if (timeoutMs !== undefined && timeoutMs <= 0) {
      throw new InvalidDurationError(`Invalid timeout ${JSON.stringify(timeout)} of flow "${flowId}": a whole-run timeout must be positive.`);
    }
    const encoded = encode(input, `Input of flow "${flowId}"`);
    const maxBytes = this.deps.settings.maxPayloadBytes;
    if (encoded !== undefined && Buffer.byteLength(encoded) > maxBytes) {
      throw new PayloadTooLargeError(`Input of flow "${flowId}"`, Buffer.byteLength(encoded), maxBytes);
    }
    const createdAt = this.deps.settings.clock.now();
    return { runId, flowId, input: encoded, createdAt, dueAt: createdAt + delayMs, timeoutMs };
  }

}
