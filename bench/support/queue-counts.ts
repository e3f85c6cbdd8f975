import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Reads a BullMQ queue's job counts from the outside, to know when every run
 * of a batch is parked (its wake-up in the timer pump's set, or a short
 * park's resume job delayed; nothing waiting or active).
 */
export class QueueCounts {
  private readonly queue: Queue;

  constructor(
    private readonly connection: Redis,
    name: string,
    private readonly prefix: string,
  ) {
    this.queue = new Queue(name, { connection, prefix });
  }

  async parked(expected: number): Promise<boolean> {
    const counts = await this.queue.getJobCounts('delayed', 'wait', 'prioritized', 'active');
    const wakes = await this.connection.zcard(`{${this.prefix}:timers}:wakes`);
    return counts.delayed + wakes >= expected && counts.wait === 0 && counts.prioritized === 0 && counts.active === 0;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
