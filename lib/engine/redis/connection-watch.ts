import type { EngineLogger } from '../flow-definition';
import { isConnectionError } from './connection';

/** What the watch needs of a client: ioredis' `error`, `ready` and `end` events. */
interface Watchable {
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'ready' | 'end', listener: () => void): unknown;
}

/**
 * Turns the connection errors of all of an engine's Redis clients into two
 * log lines per outage: one warn when the first client loses Redis, one line
 * when the last one is back. ioredis emits `error` on every failed reconnect
 * (several a second per client), and with no listener Node prints each one
 * with a stack as "[ioredis] Unhandled error event".
 */
export class ConnectionWatch {
  /** Clients that reported an error and have not been ready since. */
  private readonly down = new Set<object>();
  private outageSince?: number;
  private closed = false;

  constructor(
    private readonly where: string,
    private readonly logger: EngineLogger,
  ) {}

  /** Listens to one client for as long as it lives (the listener also keeps Node from printing its errors). */
  watch<T extends Watchable>(client: T): T {
    client.on('error', (err) => this.failed(client, err));
    client.on('ready', () => this.recovered(client));
    // A client we closed will never be ready again: it must not hold the outage open.
    client.on('end', () => this.recovered(client));
    return client;
  }

  /**
   * An error BullMQ reports through a worker or queue. Connection errors are
   * left to our own clients, which see the same outage (BullMQ's blocking
   * connection is a copy of ours); anything else is worth a line of its own.
   */
  report(source: string, err: Error): void {
    if (this.closed || isConnectionError(err)) return;
    this.logger.warn(`${source}: ${err?.message ?? String(err)}`);
  }

  /** Engine closed: errors of clients being torn down are expected, and nothing is logged any more. */
  close(): void {
    this.closed = true;
  }

  private failed(client: object, err: Error): void {
    if (this.closed) return;
    this.down.add(client);
    if (this.outageSince !== undefined) return;
    this.outageSince = Date.now();
    this.logger.warn(`Redis unreachable at ${this.where}: ${err?.message ?? String(err)}; retrying`);
  }

  private recovered(client: object): void {
    this.down.delete(client);
    if (this.closed || this.outageSince === undefined || this.down.size > 0) return;
    const seconds = ((Date.now() - this.outageSince) / 1000).toFixed(1);
    this.outageSince = undefined;
    this.logger.log(`Redis reachable again after ${seconds} s`);
  }
}
