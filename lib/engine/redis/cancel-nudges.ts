import type { CancelNudges } from '../ports';
import type { RedisClient } from './connection';

/**
 * Cancel nudges over Redis pub/sub on `<prefix>:cancel`, the message being
 * `<runId>\n<reason>` (run ids hold no newline). Pub/sub delivers to whoever listens now and forgets: a node
 * that misses a nudge (reconnecting) still stops at its next heartbeat.
 */
export class RedisCancelNudges implements CancelNudges {
  private readonly channel: string;

  constructor(
    private readonly publisher: RedisClient,
    /** A connection of its own: a subscribed connection can do nothing else. Only worker nodes listen. */
    private readonly subscriber: RedisClient | undefined,
    prefix: string,
  ) {
    this.channel = `${prefix}:cancel`;
  }

  async publish(runId: string, reason: string): Promise<void> {
    await this.publisher.publish(this.channel, `${runId}\n${reason}`);
  }

  async listen(onNudge: (runId: string, reason: string) => void): Promise<void> {
    if (!this.subscriber) return;
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      const cut = message.indexOf('\n');
      onNudge(cut < 0 ? message : message.slice(0, cut), cut < 0 ? '' : message.slice(cut + 1));
    });
    // ioredis subscribes again by itself after a reconnect.
    await this.subscriber.subscribe(this.channel);
  }
}
