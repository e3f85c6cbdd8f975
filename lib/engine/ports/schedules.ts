// Schedules: the clock that fires slots, and what each schedule did.

/** When a schedule fires, as the queue keeps it: a cron in an IANA zone, or an interval in ms. */
export type ScheduleTiming = { cron: string; tz?: string } | { everyMs: number };

/** What a schedule's queue entry carries: everything a node needs to fire a slot, even one without the flow. */
export interface ScheduleEntry {
  scheduleId: string;
  flowId: string;
  /** The spec as views show it, without its input (JSON). */
  spec: string;
  /** The encoded input ('' = none). */
  input: string;
  overlap: 'skip' | 'allow';
  /** 'code': declared by a @Flow; 'runtime': made by schedule(). */
  source: 'code' | 'runtime';
}

/** A schedule as the queue keeps it. */
export interface QueuedSchedule {
  entry: ScheduleEntry;
  timing: ScheduleTiming;
  /** When the next slot fires (ms); undefined when none is planned. */
  nextAt?: number;
}

/** One slot of a schedule, handed to the node that fires it. */
export interface ScheduleSlot {
  entry: ScheduleEntry;
  /** The time of the slot the queue's job was planned for (ms). */
  dueAt: number;
  /** When a worker took the job (ms). */
  takenAt: number;
}

/** The schedules' clock: one job factory per schedule (BullMQ job schedulers), fired on one node per slot. */
export interface ScheduleQueue {
  /** Creates or replaces the schedule (its pending slot is replanned). */
  upsert(entry: ScheduleEntry, timing: ScheduleTiming): Promise<void>;
  get(scheduleId: string): Promise<QueuedSchedule | null>;
  list(): Promise<QueuedSchedule[]>;
  /** false when there was no such schedule. */
  remove(scheduleId: string): Promise<boolean>;
  /** Starts taking due slots; `fire` starts (or skips) the slot's run. */
  startWorker(fire: (slot: ScheduleSlot) => Promise<void>): Promise<void>;
  /** Stops taking slots, waiting at most `graceMs` for the ones in hand. */
  stopWorker(graceMs: number): Promise<void>;
  close(): Promise<void>;
}

/** What a schedule did: its latest run, its skipped slots, and which schedules came from code. */
export interface ScheduleStore {
  lastRun(scheduleId: string): Promise<{ runId: string; slotAt: number } | null>;
  /** Records the run of a slot unless a later slot's run is recorded already. */
  recordRun(scheduleId: string, slotAt: number, runId: string): Promise<void>;
  recordSkip(scheduleId: string, slotAt: number): Promise<void>;
  stats(scheduleIds: readonly string[]): Promise<Array<{ lastRun?: { runId: string; slotAt: number }; skipped: number; lastSkippedAt?: number }>>;
  /** Ids of the schedules declared by @Flow decorators (as of the latest bootstrap). */
  codeScheduleIds(): Promise<string[]>;
  markCode(scheduleIds: readonly string[]): Promise<void>;
  /** Drops what is kept about the schedule (its stats and its code mark). */
  forget(scheduleId: string): Promise<void>;
  /** Drops only the code mark: a runtime schedule() took the id over. */
  unmarkCode(scheduleId: string): Promise<void>;
}
