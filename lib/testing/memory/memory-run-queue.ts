import type { Clock, ClockTimer } from '../../engine/clock';
import type { EngineLogger } from '../../engine/flow-definition';
import { QUEUE_JOB_STATES, type QueueJobState, type RunQueue } from '../../engine/ports';

interface Job {
  id: string;
  runId: string;
  request?: string;
  /** Resumes go ahead of new runs, as in the BullMQ queue (new runs carry a priority, resumes none). */
  lane: 'resume' | 'new';
  dueAt: number;
  state: 'delayed' | 'waiting' | 'active';
  timer?: ClockTimer;
}

/**
 * The RunQueue in memory, on the backend's clock: delayed jobs are clock
 * timers (virtual ones in tests), a job id is taken while its job waits, is
 * delayed or runs (a repeated add is dropped, as BullMQ drops it), and a
 * worker takes every waiting resume before any new run, oldest first in each
 * lane, up to `concurrency` at once.
 */
export class MemoryRunQueue implements RunQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly waiting = { resume: [] as Job[], new: [] as Job[] };
  private process?: (runId: string, request?: string) => Promise<void>;
  private active = 0;
  private pumping = false;
  private stopped = false;
  private closed = false;
  private resumes = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly concurrency: number,
    private readonly logger: EngineLogger,
  ) {}

  async enqueueNew(runId: string, delayMs: number, request?: string): Promise<void> {
    this.add({ id: `t-${runId}`, runId, request, lane: 'new', dueAt: this.clock.now() + Math.max(0, delayMs) });
  }

  async enqueueNewMany(runs: ReadonlyArray<{ runId: string; delayMs: number }>): Promise<void> {
    for (const { runId, delayMs } of runs) await this.enqueueNew(runId, delayMs);
  }

  async enqueueResume(runId: string, atMs: number, dedupeKey?: string): Promise<void> {
    await this.enqueueResumeJob(runId, atMs, this.resumeJobId(runId, dedupeKey));
  }

  resumeJobId(runId: string, dedupeKey?: string): string {
    return dedupeKey ? `r-${runId}-${dedupeKey}` : `r${(this.resumes++).toString(36)}`;
  }

  async enqueueResumeJob(runId: string, atMs: number, jobId: string): Promise<void> {
    this.add({ id: jobId, runId, lane: 'resume', dueAt: Math.max(atMs, this.clock.now()) });
  }

  async hasLiveJob(runId: string, jobId = `t-${runId}`, dueBy = Infinity): Promise<boolean> {
    const job = this.jobs.get(jobId);
    return job !== undefined && (job.state !== 'delayed' || job.dueAt <= dueBy);
  }

  async jobCounts(): Promise<Record<QueueJobState, number>> {
    const counts = Object.fromEntries(QUEUE_JOB_STATES.map((state) => [state, 0])) as Record<QueueJobState, number>;
    // As BullMQ reports them: a waiting new run carries a priority, so it counts as prioritized.
    for (const job of this.jobs.values()) counts[job.state === 'waiting' && job.lane === 'new' ? 'prioritized' : job.state]++;
    return counts;
  }

  async startWorker(process: (runId: string, request?: string) => Promise<void>): Promise<void> {
    this.process = process;
    this.schedule();
  }

  async stopWorker(): Promise<void> {
    this.stopped = true;
    if (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async forceStop(): Promise<void> {
    this.stopped = true;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.closed = true;
    for (const job of this.jobs.values()) job.timer?.cancel();
    this.jobs.clear();
    this.waiting.resume.length = 0;
    this.waiting.new.length = 0;
    this.settleIdle();
  }

  /** True while a job runs or waits to be taken by a started worker. */
  busy(): boolean {
    return this.active > 0 || this.pumping || (!this.stopped && this.process !== undefined && this.waiting.resume.length + this.waiting.new.length > 0);
  }

  /** Resolves once nothing runs and nothing is waiting (delayed jobs aside). */
  idle(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Runs whose executions are under way now. */
  activeRuns(): string[] {
    return [...this.jobs.values()].filter((job) => job.state === 'active').map((job) => job.runId);
  }

  private add(job: Omit<Job, 'state'>): void {
    if (this.closed) return;
    if (this.jobs.has(job.id)) return;
    const entry: Job = { ...job, state: 'delayed' };
    this.jobs.set(entry.id, entry);
    const delay = entry.dueAt - this.clock.now();
    if (delay <= 0) this.makeWaiting(entry);
    else entry.timer = this.clock.setTimer(() => this.makeWaiting(entry), delay);
  }

  private makeWaiting(job: Job): void {
    if (this.jobs.get(job.id) !== job) return;
    job.state = 'waiting';
    job.timer = undefined;
    this.waiting[job.lane].push(job);
    this.schedule();
  }

  /** Jobs are taken after the current call returns: an execution never starts inside another's write. */
  private schedule(): void {
    if (this.pumping) return;
    this.pumping = true;
    queueMicrotask(() => {
      this.pumping = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.stopped && this.process && this.active < this.concurrency) {
      const job = this.waiting.resume.shift() ?? this.waiting.new.shift();
      if (!job) break;
      job.state = 'active';
      this.active++;
      const process = this.process;
      void Promise.resolve()
        .then(() => process(job.runId, job.request))
        .catch((err: Error) => this.logger.error(`Job "${job.id}" of run "${job.runId}" failed: ${err?.message}`, err?.stack))
        .finally(() => {
          this.active--;
          if (this.jobs.get(job.id) === job) this.jobs.delete(job.id);
          if (this.waiting.resume.length + this.waiting.new.length > 0) this.schedule();
          this.settleIdle();
        });
    }
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.busy() && !this.stopped) return;
    if (this.active > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
