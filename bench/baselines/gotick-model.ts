import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { benchClient, closeClient } from './connections';

/**
 * The original GoTick's execution model, rebuilt minimally on BullMQ: every
 * step is its own job. A job re-reads the run's whole state (one hash),
 * replays the finished steps from it, runs the next step, writes it, and
 * enqueues the run again. No leases or indexes: this is the cheapest form
 * of that model, so beating it is owed to the design, not to extra checks.
 */
export class GoTickModel {
  private readonly queue: Queue;
  private readonly store: Redis;
  private readonly producer: Redis;
  private consumer?: Redis;
  private worker?: Worker<{ runId: string }>;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly steps: number,
    private readonly hooks: { onStepStart?: (runId: string, step: number) => void; onRunDone?: (runId: string) => void },
  ) {
    this.producer = benchClient(url);
    this.store = benchClient(url);
    this.queue = new Queue('model', { connection: this.producer, prefix });
  }

  private key(runId: string): string {
    return `${this.prefix}:model:{${runId}}`;
  }

  async startWorker(concurrency: number): Promise<void> {
    this.consumer = benchClient(this.url);
    this.worker = new Worker<{ runId: string }>('model', (job) => this.step(job), {
      connection: this.consumer,
      prefix: this.prefix,
      concurrency,
      autorun: false,
    });
    this.worker.on('error', () => undefined);
    void this.worker.run();
    await this.worker.waitUntilReady();
  }

  async trigger(runId: string): Promise<void> {
    await this.store.hset(this.key(runId), 'status', 'queued', 'createdAt', Date.now());
    await this.enqueue(runId);
  }

  private enqueue(runId: string) {
    return this.queue.add('step', { runId }, { removeOnComplete: true, removeOnFail: 1000 });
  }

  private async step(job: Job<{ runId: string }>): Promise<void> {
    const { runId } = job.data;
    const key = this.key(runId);
    const state = await this.store.hgetall(key);
    // Replay: every finished step's result is decoded again, as a replaying flow would.
    let next = 0;
    while (next < this.steps && state[`s${next}`] !== undefined) JSON.parse(state[`s${next++}`]);
    if (next >= this.steps) return;
    this.hooks.onStepStart?.(runId, next);
    const record = JSON.stringify({ kind: 'memo', status: 'completed', attempts: 1, seq: next, result: String(next), finishedAt: Date.now() });
    if (next + 1 < this.steps) {
      await this.store.hset(key, `s${next}`, record);
      await this.enqueue(runId);
    } else {
      await this.store.hset(key, `s${next}`, record, 'status', 'completed');
      this.hooks.onRunDone?.(runId);
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    await closeClient(this.producer);
    await closeClient(this.store);
    if (this.consumer) await closeClient(this.consumer);
  }
}
