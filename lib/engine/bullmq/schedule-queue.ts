import { Queue, Worker, type Job } from 'bullmq';
import type { QueuedSchedule, ScheduleEntry, ScheduleQueue, ScheduleSlot, ScheduleTiming } from '../ports';
import { explainUnavailable, type RedisClient } from '../redis/connection';
import { firstIntervalSlot } from '../schedules/schedule-spec';

/** The BullMQ queue that holds every schedule's job scheduler: `<bullPrefix>:schedules:*`. */
export const SCHEDULE_QUEUE_NAME = 'schedules';

/** BullMQ's prefix for the schedules queue: on a Cluster its keys share one slot through a hash tag. */
export function scheduleQueuePrefix(prefix: string, cluster: boolean): string {
  return cluster ? `{${prefix}}` : prefix;
}

export interface BullmqScheduleQueueOptions {
  prefix: string;
  cluster: boolean;
  /** Producer connection (fails fast when Redis is down). */
  producer: RedisClient;
  /** Worker connection (maxRetriesPerRequest: null). */
  consumer: () => RedisClient;
  onError: (source: string, err: Error) => void;
}

// A slot job only writes a run and its record: a few retries cover a short
// Redis outage; the run id of the slot makes a retried slot start one run.
const SLOT_JOB_OPTIONS = { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: { count: 100 } };
const SLOT_CONCURRENCY = 4;

/**
 * Slot jobs carry their planned time as the last part of their id
 * (`repeat:<scheduleId>:<ms>`); a job without one stands for the time it was due.
 */
function dueAtOf(job: Job): number {
  const id = job.id ?? '';
  const planned = id.startsWith('repeat:') ? Number(id.slice(id.lastIndexOf(':') + 1)) : NaN;
  return Number.isFinite(planned) ? planned : job.timestamp + (job.opts.delay ?? 0);
}

/**
 * When the slot's job was first taken: missed slots collapse into the latest
 * one due by then. A job taken again (retried after a failure, or after its
 * worker died) keeps its own slot: BullMQ planned the next slot at the first
 * take, so naming a later one now could only collide with that slot's run.
 */
function takenAtOf(job: Job): number {
  const first = job.attemptsMade === 0 && (job.attemptsStarted ?? 0) <= 1;
  return first ? (job.processedOn ?? Date.now()) : dueAtOf(job);
}

/** The ScheduleQueue on BullMQ job schedulers: BullMQ plans each next slot as the current one is taken. */
export class BullmqScheduleQueue implements ScheduleQueue {
  private readonly queue: Queue<ScheduleEntry>;
  private worker?: Worker<ScheduleEntry>;

  constructor(private readonly options: BullmqScheduleQueueOptions) {
    this.queue = new Queue(SCHEDULE_QUEUE_NAME, { connection: options.producer, prefix: scheduleQueuePrefix(options.prefix, options.cluster) });
    this.queue.on('error', (err) => options.onError('BullMQ schedule queue', err));
  }

  async upsert(entry: ScheduleEntry, timing: ScheduleTiming): Promise<void> {
    // Intervals start on a multiple of themselves (BullMQ would start at "now"), so whichever node
    // creates the schedule, its slots and their run ids are the same.
    const repeat = 'everyMs' in timing ? { every: timing.everyMs, startDate: firstIntervalSlot(timing.everyMs, Date.now()) } : { pattern: timing.cron, tz: timing.tz };
    await this.queue.upsertJobScheduler(entry.scheduleId, repeat, { name: 'slot', data: entry, opts: SLOT_JOB_OPTIONS }).catch(explainUnavailable);
  }

  async get(scheduleId: string): Promise<QueuedSchedule | null> {
    const found = await this.queue.getJobScheduler(scheduleId).catch(explainUnavailable);
    return found ? toQueued(found) : null;
  }

  async list(): Promise<QueuedSchedule[]> {
    const all = await this.queue.getJobSchedulers(0, -1, true).catch(explainUnavailable);
    return all.map(toQueued).filter((s): s is QueuedSchedule => s !== null);
  }

  async remove(scheduleId: string): Promise<boolean> {
    return (await this.queue.removeJobScheduler(scheduleId).catch(explainUnavailable)) === true;
  }

  async startWorker(fire: (slot: ScheduleSlot) => Promise<void>): Promise<void> {
    const worker = new Worker<ScheduleEntry>(
      SCHEDULE_QUEUE_NAME,
      (job) => fire({ entry: job.data, dueAt: dueAtOf(job), takenAt: takenAtOf(job) }),
      { connection: this.options.consumer(), prefix: scheduleQueuePrefix(this.options.prefix, this.options.cluster), concurrency: SLOT_CONCURRENCY, autorun: false },
    );
    worker.on('error', (err) => this.options.onError('BullMQ schedule worker', err));
    this.worker = worker;
    void worker.run();
    await worker.waitUntilReady();
  }

  async stopWorker(graceMs: number): Promise<void> {
    // Pausing lets a slot in hand finish, raced against the grace period (it waits for Redis
    // without bound); the forced close then drops the blocking connection at once. A slot cut
    // off is taken again by another node once its lock lapses, and starts the same run.
    if (!this.worker) return;
    await within(this.worker.pause(), graceMs);
    await within(this.worker.close(true), 500);
  }

  async close(): Promise<void> {
    await within(this.queue.close(), 500);
  }
}

/** Waits for `promise` at most `ms` (it goes on settling, unobserved). */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([promise.catch(() => undefined), late]);
  clearTimeout(timer);
}

function toQueued(found: { key: string; pattern?: string; tz?: string; every?: number; next?: number; template?: { data?: ScheduleEntry } }): QueuedSchedule | null {
  const entry = found.template?.data;
  // Not one of ours (written to our queue by something else): nothing to show or fire.
  if (!entry || typeof entry.flowId !== 'string') return null;
  const timing: ScheduleTiming = found.every ? { everyMs: found.every } : { cron: found.pattern ?? '', ...(found.tz ? { tz: found.tz } : {}) };
  return { entry, timing, nextAt: found.next ?? undefined };
}
