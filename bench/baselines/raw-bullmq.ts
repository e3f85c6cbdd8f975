import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { benchClient, closeClient } from './connections';

/**
 * The ceiling: raw BullMQ with one empty job per "run" and nothing else, on
 * the same Redis and with the same worker settings the engine uses.
 */
export class RawBullmq<T extends object = Record<string, unknown>> {
  readonly queue: Queue;
  private worker?: Worker<T>;
  private readonly producer: Redis;
  private consumer?: Redis;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly process: (data: T) => void | Promise<void>,
  ) {
    this.producer = benchClient(url);
    this.queue = new Queue('raw', { connection: this.producer, prefix });
  }

  /** Runs `onCompleted` after BullMQ has recorded the job as done, as the engine's hooks run after its finish. */
  async startWorker(concurrency: number, onCompleted?: (data: T) => void): Promise<void> {
    this.consumer = benchClient(this.url);
    this.worker = new Worker<T>('raw', async (job: Job<T>) => this.process(job.data), {
      connection: this.consumer,
      prefix: this.prefix,
      concurrency,
      autorun: false,
    });
    this.worker.on('error', () => undefined);
    if (onCompleted) this.worker.on('completed', (job) => onCompleted(job.data));
    void this.worker.run();
    await this.worker.waitUntilReady();
  }

  async add(data: T, delayMs = 0): Promise<void> {
    await this.queue.add('job', data, { removeOnComplete: true, removeOnFail: 1000, ...(delayMs > 0 ? { delay: delayMs } : {}) });
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    await closeClient(this.producer);
    if (this.consumer) await closeClient(this.consumer);
  }
}
