import type { RunEnds } from '../ports';
import type { RedisClient } from './connection';

/**
 * Hears runs end: finish-n.lua and cancel-2.lua publish each ended run's id
 * on `<prefix>:ends`. One subscriber connection per engine, opened on the
 * first watch, serves every waiter of this process. Best effort by design: a
 * message missed (a reconnect, a Cluster failover) only leaves the waiter to
 * its slow poll.
 */
export class RedisRunEnds implements RunEnds {
  private readonly channel: string;
  private readonly watchers = new Map<string, Set<() => void>>();
  private subscribed?: Promise<void>;
  private subscriber?: RedisClient;

  constructor(
    prefix: string,
    /** Opens the subscriber connection (the engine tracks and closes it). */
    private readonly open: () => RedisClient,
  ) {
    this.channel = `${prefix}:ends`;
  }

  async watch(runId: string, onEnd: () => void): Promise<() => void> {
    let set = this.watchers.get(runId);
    if (!set) this.watchers.set(runId, (set = new Set()));
    set.add(onEnd);
    const stop = () => {
      set!.delete(onEnd);
      if (set!.size === 0 && this.watchers.get(runId) === set) this.watchers.delete(runId);
    };
    try {
      await this.subscribe();
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  /** Stops listening (the connection itself is closed by its owner); for tests that simulate lost messages. */
  async unsubscribe(): Promise<void> {
    if (this.subscriber) await this.subscriber.unsubscribe(this.channel);
  }

  private subscribe(): Promise<void> {
    if (!this.subscriber) {
      this.subscriber = this.open();
      this.subscriber.on('message', (channel: string, runId: string) => {
        if (channel !== this.channel) return;
        const set = this.watchers.get(runId);
        if (set) for (const onEnd of set) onEnd();
      });
    }
    if (!this.subscribed) {
      this.subscribed = this.subscriber.subscribe(this.channel).then(
        () => undefined,
        (err: Error) => {
          // The next waiter asks again; ioredis reconnects this same connection meanwhile.
          this.subscribed = undefined;
          throw err;
        },
      );
    }
    return this.subscribed;
  }
}
