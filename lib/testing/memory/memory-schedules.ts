import { CronExpressionParser } from 'cron-parser';
import type { Clock, ClockTimer } from '../../engine/clock';
import type { EngineLogger } from '../../engine/flow-definition';
import type { QueuedSchedule, ScheduleEntry, ScheduleQueue, ScheduleSlot, ScheduleStore, ScheduleTiming } from '../../engine/ports';
import { firstIntervalSlot } from '../../engine/schedules/schedule-spec';

interface Planned {
  entry: ScheduleEntry;
  timing: ScheduleTiming;
  nextAt?: number;
  timer?: ClockTimer;
}

/** The first slot of `timing` after `after` (an interval's slots are multiples of it since the epoch, as on BullMQ). */
function slotAfter(timing: ScheduleTiming, after: number): number | undefined {
  if ('everyMs' in timing) return firstIntervalSlot(timing.everyMs, after + 1);
  try {
    return CronExpressionParser.parse(timing.cron, { tz: timing.tz, currentDate: new Date(after) }).next().getTime();
  } catch {
    return undefined;
  }
}

/**
 * The ScheduleQueue in memory, on the backend's clock: one planned slot per
 * schedule (as a BullMQ job scheduler keeps one job), a clock timer at its
 * time. When it fires, the next slot is planned after it and the slot is
 * handed to the scheduler, which starts (or skips) its run. On the virtual
 * clock every slot fires at its own time, in time order with every other timer.
 */
export class MemoryScheduleQueue implements ScheduleQueue {
  private readonly schedules = new Map<string, Planned>();
  private fire?: (slot: ScheduleSlot) => Promise<void>;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: EngineLogger,
  ) {}

  async upsert(entry: ScheduleEntry, timing: ScheduleTiming): Promise<void> {
    this.schedules.get(entry.scheduleId)?.timer?.cancel();
    // An interval's first slot is the next multiple of it from now, a cron's its next match (as BullMQ plans them).
    const first = 'everyMs' in timing ? firstIntervalSlot(timing.everyMs, this.clock.now()) : slotAfter(timing, this.clock.now());
    const planned: Planned = { entry, timing };
    this.schedules.set(entry.scheduleId, planned);
    this.plan(planned, first);
  }

  async get(scheduleId: string): Promise<QueuedSchedule | null> {
    const planned = this.schedules.get(scheduleId);
    return planned ? queued(planned) : null;
  }

  async list(): Promise<QueuedSchedule[]> {
    return [...this.schedules.values()].map(queued);
  }

  async remove(scheduleId: string): Promise<boolean> {
    const planned = this.schedules.get(scheduleId);
    if (!planned) return false;
    planned.timer?.cancel();
    this.schedules.delete(scheduleId);
    return true;
  }

  async startWorker(fire: (slot: ScheduleSlot) => Promise<void>): Promise<void> {
    this.fire = fire;
    // Slots that came due before the worker started fire now.
    for (const planned of this.schedules.values()) if (planned.nextAt !== undefined && planned.nextAt <= this.clock.now()) this.plan(planned, planned.nextAt);
  }

  async stopWorker(graceMs: number): Promise<void> {
    this.fire = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.inFlight), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    for (const planned of this.schedules.values()) planned.timer?.cancel();
  }

  /** True while a slot's run is being started. */
  busy(): boolean {
    return this.inFlight.size > 0;
  }

  private plan(planned: Planned, at: number | undefined): void {
    planned.timer?.cancel();
    planned.timer = undefined;
    planned.nextAt = at;
    if (at === undefined) return;
    planned.timer = this.clock.setTimer(() => this.take(planned, at), at - this.clock.now());
  }

  private take(planned: Planned, dueAt: number): void {
    if (this.schedules.get(planned.entry.scheduleId) !== planned) return;
    const fire = this.fire;
    if (!fire) {
      // No worker yet (or any more): the slot stays planned, as a BullMQ job waits for a worker.
      planned.timer = undefined;
      return;
    }
    const takenAt = this.clock.now();
    this.plan(planned, slotAfter(planned.timing, Math.max(dueAt, takenAt)));
    const slot = fire({ entry: planned.entry, dueAt, takenAt }).catch((err: Error) => {
      // The scheduler warned already; BullMQ would retry the job, the memory queue drops it.
      this.logger.debug?.(`Schedule "${planned.entry.scheduleId}" slot ${new Date(dueAt).toISOString()} failed: ${err.message}`);
    });
    this.inFlight.add(slot);
    void slot.finally(() => this.inFlight.delete(slot));
  }
}

function queued(planned: Planned): QueuedSchedule {
  return { entry: planned.entry, timing: planned.timing, ...(planned.nextAt !== undefined ? { nextAt: planned.nextAt } : {}) };
}

/** The ScheduleStore in memory: each schedule's latest run and skips, and the ids declared in code. */
export class MemoryScheduleStore implements ScheduleStore {
  private readonly last = new Map<string, { runId: string; slotAt: number }>();
  private readonly skips = new Map<string, { skipped: number; lastSkippedAt: number }>();
  private readonly code = new Set<string>();

  async lastRun(scheduleId: string): Promise<{ runId: string; slotAt: number } | null> {
    return this.last.get(scheduleId) ?? null;
  }

  async recordRun(scheduleId: string, slotAt: number, runId: string): Promise<void> {
    // As schedule-run-1.lua: a slot fired late, or twice, does not move the record back.
    const current = this.last.get(scheduleId);
    if (current && current.slotAt >= slotAt) return;
    this.last.set(scheduleId, { runId, slotAt });
  }

  async recordSkip(scheduleId: string, slotAt: number): Promise<void> {
    this.skips.set(scheduleId, { skipped: (this.skips.get(scheduleId)?.skipped ?? 0) + 1, lastSkippedAt: slotAt });
  }

  async stats(scheduleIds: readonly string[]): Promise<Array<{ lastRun?: { runId: string; slotAt: number }; skipped: number; lastSkippedAt?: number }>> {
    return scheduleIds.map((id) => {
      const last = this.last.get(id);
      const skips = this.skips.get(id);
      return { ...(last ? { lastRun: { ...last } } : {}), skipped: skips?.skipped ?? 0, ...(skips ? { lastSkippedAt: skips.lastSkippedAt } : {}) };
    });
  }

  async codeScheduleIds(): Promise<string[]> {
    return [...this.code];
  }

  async markCode(scheduleIds: readonly string[]): Promise<void> {
    for (const id of scheduleIds) this.code.add(id);
  }

  async forget(scheduleId: string): Promise<void> {
    this.last.delete(scheduleId);
    this.skips.delete(scheduleId);
    this.code.delete(scheduleId);
  }

  async unmarkCode(scheduleId: string): Promise<void> {
    this.code.delete(scheduleId);
  }
}
