import { InvalidScheduleError, PayloadTooLargeError, UnknownFlowError } from '../../common/errors';
import { isFinished } from '../../common/run-status';
import type { ScheduleSpec, ScheduleView } from '../../common/types';
import { decode, encode } from '../codec';
import type { EngineLogger, FlowDefinition } from '../flow-definition';
import type { QueuedSchedule, RunStore, ScheduleEntry, ScheduleQueue, ScheduleSlot, ScheduleStore } from '../ports';
import type { RunCreator } from '../run-creator';
import { iso } from '../run-view';
import { checkSchedule, checkScheduleId, latestSlot, slotRunId, timingOfSpec, type CheckedSchedule } from './schedule-spec';

export interface SchedulerDeps {
  queue: ScheduleQueue;
  store: ScheduleStore;
  runs: Pick<RunStore, 'status'>;
  creator: Pick<RunCreator, 'triggerSlot'>;
  flows: ReadonlyMap<string, FlowDefinition>;
  maxPayloadBytes: number;
  logger: EngineLogger;
}

/**
 * Schedules: made at run time or declared in code, kept as BullMQ job
 * schedulers (BullMQ plans every slot; there is no cron loop of ours), and
 * fired into runs whose id is the schedule's id and the slot's time, so a
 * slot fired on two nodes, or twice, starts one run.
 */
export class Scheduler {
  constructor(private readonly deps: SchedulerDeps) {}

  /** Creates or replaces a runtime schedule; an unchanged spec leaves the planned slot alone. */
  async schedule(scheduleId: string, flowId: string, spec: ScheduleSpec): Promise<ScheduleView> {
    checkScheduleId(scheduleId);
    if (!this.deps.flows.has(flowId)) throw new UnknownFlowError(flowId, [...this.deps.flows.keys()].sort());
    const checked = checkSchedule(scheduleId, flowId, spec);
    await this.upsertIfChanged(checked, 'runtime');
    // A runtime schedule over an id declared in code owns it now: the next bootstrap must not prune it.
    await this.deps.store.unmarkCode(scheduleId);
    return (await this.view(scheduleId))!;
  }

  /** Removes a schedule (its pending slot too); false when there was none. */
  async unschedule(scheduleId: string): Promise<boolean> {
    checkScheduleId(scheduleId);
    const removed = await this.deps.queue.remove(scheduleId);
    await this.deps.store.forget(scheduleId);
    return removed;
  }

  async list(): Promise<ScheduleView[]> {
    const queued = (await this.deps.queue.list()).sort((a, b) => (a.entry.scheduleId < b.entry.scheduleId ? -1 : 1));
    const stats = await this.deps.store.stats(queued.map((q) => q.entry.scheduleId));
    return queued.map((q, i) => toView(q, stats[i]));
  }

  async view(scheduleId: string): Promise<ScheduleView | null> {
    const queued = await this.deps.queue.get(scheduleId);
    if (!queued) return null;
    const [stats] = await this.deps.store.stats([scheduleId]);
    return toView(queued, stats);
  }

  /**
   * Makes Redis match the schedules this node's @Flow decorators declare: adds
   * or replaces what changed, leaves what did not (every replica runs this at
   * boot; an unchanged schedule must keep its planned slot), and removes code
   * schedules no longer declared. Only schedules of flows registered here are
   * removed: a node that does not have a flow cannot tell whether its
   * schedules are still in someone's code.
   */
  async syncCode(declared: readonly CheckedSchedule[]): Promise<void> {
    const before = await this.deps.store.codeScheduleIds();
    for (const schedule of declared) await this.upsertIfChanged(schedule, 'code');
    await this.deps.store.markCode(declared.map((s) => s.scheduleId));
    const kept = new Set(declared.map((s) => s.scheduleId));
    for (const scheduleId of before) {
      if (kept.has(scheduleId)) continue;
      const queued = await this.deps.queue.get(scheduleId);
      if (queued && !this.deps.flows.has(queued.entry.flowId)) continue;
      if (queued && queued.entry.source !== 'code') {
        await this.deps.store.unmarkCode(scheduleId);
        continue;
      }
      await this.deps.queue.remove(scheduleId);
      await this.deps.store.forget(scheduleId);
      this.deps.logger.log(`Schedule "${scheduleId}" is no longer declared by any @Flow on this node; removed it.`);
    }
  }

  /** Starts the run of a due slot, or skips the slot (counted) while the schedule's previous run is live and overlap is 'skip'. */
  async fire(slot: ScheduleSlot): Promise<void> {
    const { entry } = slot;
    const slotAt = latestSlot(timingOfSpec(JSON.parse(entry.spec)), slot.dueAt, slot.takenAt);
    const runId = slotRunId(entry.scheduleId, slotAt);
    const where = `Schedule "${entry.scheduleId}" (flow "${entry.flowId}") slot ${new Date(slotAt).toISOString()}`;
    try {
      if (entry.overlap === 'skip') {
        const last = await this.deps.store.lastRun(entry.scheduleId);
        // The same run id is this slot fired again: start it (idempotently), it is no overlap.
        if (last && last.runId !== runId) {
          const status = await this.deps.runs.status(last.runId);
          if (status !== null && !isFinished(status)) {
            await this.deps.store.recordSkip(entry.scheduleId, slotAt);
            this.deps.logger.debug?.(`${where} skipped: run ${last.runId} is still ${status}.`);
            return;
          }
        }
      }
      // Recorded before the run is written: a crash in between leaves the job to be taken
      // again, and that retry sees its own run id here and writes the run.
      await this.deps.store.recordRun(entry.scheduleId, slotAt, runId);
      const { created } = await this.deps.creator.triggerSlot({ flowId: entry.flowId, input: entry.input || undefined, runId, scheduleId: entry.scheduleId, slotAt });
      this.deps.logger.debug?.(`${where} ${created ? 'started' : 'had already started'} run ${runId}.`);
    } catch (err) {
      this.deps.logger.warn(`${where} could not start its run ${runId}: ${(err as Error).message}`);
      throw err;
    }
  }

  private async upsertIfChanged(schedule: CheckedSchedule, source: ScheduleEntry['source']): Promise<void> {
    const { input, ...shown } = schedule.spec as ScheduleSpec & { input?: unknown };
    const encoded = encode(input, `Input of schedule "${schedule.scheduleId}"`) ?? '';
    const bytes = Buffer.byteLength(encoded);
    if (bytes > this.deps.maxPayloadBytes) throw new PayloadTooLargeError(`Input of schedule "${schedule.scheduleId}"`, bytes, this.deps.maxPayloadBytes);
    const entry: ScheduleEntry = { scheduleId: schedule.scheduleId, flowId: schedule.flowId, spec: JSON.stringify(shown), input: encoded, overlap: schedule.overlap, source };
    const existing = await this.deps.queue.get(schedule.scheduleId);
    if (existing && JSON.stringify(existing.entry) === JSON.stringify(entry) && JSON.stringify(existing.timing) === JSON.stringify(schedule.timing)) return;
    await this.deps.queue.upsert(entry, schedule.timing);
  }
}

/** Every schedule id a set of flows declares, checked: an id declared twice stops bootstrap. */
export function declaredSchedules(flows: Iterable<{ id: string; schedules: CheckedSchedule[] }>): CheckedSchedule[] {
  const byId = new Map<string, CheckedSchedule>();
  for (const flow of flows) {
    for (const schedule of flow.schedules) {
      const other = byId.get(schedule.scheduleId);
      if (other) throw new InvalidScheduleError(schedule.scheduleId, `declared by flow "${other.flowId}" and by flow "${flow.id}"; schedule ids must be unique.`);
      byId.set(schedule.scheduleId, schedule);
    }
  }
  return [...byId.values()];
}

function toView(queued: QueuedSchedule, stats: { lastRun?: { runId: string; slotAt: number }; skipped: number; lastSkippedAt?: number }): ScheduleView {
  const { entry } = queued;
  const spec = JSON.parse(entry.spec) as ScheduleSpec;
  const view: ScheduleView = {
    scheduleId: entry.scheduleId,
    flowId: entry.flowId,
    spec: entry.input ? { ...spec, input: decode(entry.input) } : spec,
    source: entry.source,
    skipped: stats.skipped,
  };
  if (queued.nextAt !== undefined) view.nextAt = iso(queued.nextAt);
  if (stats.lastRun) view.lastRun = { runId: stats.lastRun.runId, slotAt: iso(stats.lastRun.slotAt)! };
  if (stats.lastSkippedAt !== undefined) view.lastSkippedAt = iso(stats.lastSkippedAt);
  return view;
}
