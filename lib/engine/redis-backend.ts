import type { BackendPorts, BackendSettings, EngineBackend } from './backend';
import { checkGivenQueues, runQueueSpecs, type GivenQueue, type RunQueueSpec } from './bullmq/given-queues';
import { BullmqRunQueue } from './bullmq/run-queue';
import { BullmqScheduleQueue } from './bullmq/schedule-queue';
import { systemClock } from './clock';
import { Maintenance } from './maintenance/maintenance';
import type { ResolvedOptions } from './options';
import { RedisCancelNudges } from './redis/cancel-nudges';
import { RedisConcurrencySlots } from './redis/concurrency-slots';
import { connectOrExplain, createClient, describeConnection, isCluster, type RedisClient, type RedisConnection } from './redis/connection';
import { ConnectionWatch } from './redis/connection-watch';
import { RedisMailboxStore } from './redis/mailbox-store';
import { pingLatency } from './redis/ping';
import { RedisRetryStore } from './redis/retry-store';
import { RedisRunEnds } from './redis/run-ends';
import { RedisRunStore, TIMER_GRACE_MS } from './redis/run-store';
import { RedisScheduleStore } from './redis/schedule-store';
import { settlesWithin } from './shutdown';

/** The options the Redis backend reads beyond what every backend is told at open(). */
export type RedisBackendSettings = Pick<ResolvedOptions, 'prefix' | 'partitions' | 'connectTimeoutMs' | 'commandTimeoutMs' | 'logger'>;

/**
 * The engine's default backend: ports on Redis and BullMQ. It owns every
 * connection it makes (each watched, so an outage is logged once) and closes
 * them at close(); each has its role's settings, see open().
 */
export class RedisBackend implements EngineBackend {
  readonly clock = systemClock;
  readonly where: string;
  private readonly watch: ConnectionWatch;
  private readonly clients: RedisClient[] = [];
  private readonly cluster: boolean;
  /** The connection runs are created and jobs added on (made early when queueConnection() is asked first). */
  private producer?: RedisClient;
  /** Queues made outside (see useQueues); the backend makes its own otherwise. */
  private givenQueues?: GivenQueue[];
  /** The store's connection, which ping() uses. */
  private pingClient?: RedisClient;

  constructor(
    private readonly connection: RedisConnection | undefined,
    private readonly settings: RedisBackendSettings,
  ) {
    this.where = describeConnection(connection);
    this.cluster = isCluster(connection);
    this.watch = new ConnectionWatch(this.where, settings.logger);
  }

  /** The BullMQ name and key prefix of each partition's run queue, in partition order. */
  queueSpecs(): RunQueueSpec[] {
    return runQueueSpecs(this.settings.prefix, this.settings.partitions, this.cluster);
  }

  /** The connection queues made outside must use: the one runs are written on. Made on the first call, connected by open(). */
  queueConnection(): RedisClient {
    // Producers fail fast while Redis is away and time out while it is frozen: a trigger must not hang.
    this.producer ??= this.track(createClient(this.connection, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: this.settings.commandTimeoutMs }));
    return this.producer;
  }

  /** Adopts queues made outside (checked against queueSpecs()); their owner closes them. */
  useQueues(queues: ReadonlyArray<unknown>): void {
    this.givenQueues = checkGivenQueues(queues, this.queueSpecs());
    // They connect as soon as they are made: an outage before start() must reach our log, not Node's.
    for (const queue of this.givenQueues) queue.on('error', (err) => this.watch.report('BullMQ queue', err));
  }

  /** Connects (failing with RedisUnavailableError if it cannot within connectTimeout) and opens the ports on their connections. */
  async open(node: BackendSettings): Promise<BackendPorts> {
    const { connection, cluster } = this;
    const { prefix, connectTimeoutMs, commandTimeoutMs: commandTimeout } = this.settings;
    // No auto-pipelining on the store client: it holds commands until setImmediate, so a step's
    // running marker would wait behind a step body that blocks the event loop.
    const storeClient = this.track(
      createClient(connection, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout, enableAutoPipelining: false }),
    );
    const producer = this.queueConnection();
    await connectOrExplain(storeClient, this.where, connectTimeoutMs);
    await connectOrExplain(producer, this.where, connectTimeoutMs);
    this.pingClient = storeClient;
    // BullMQ's workers wait on blocking reads, which must not be cut short: no retry cap, no commandTimeout.
    const consumer = () => this.track(createClient(connection, { maxRetriesPerRequest: null }));
    const onError = (source: string, err: Error) => this.watch.report(source, err);
    const store = new RedisRunStore(storeClient, prefix, node.retentionMs, cluster);
    const queue = new BullmqRunQueue({
      prefix, producer, consumer, concurrency: node.concurrency, lockMs: node.leaseMs, partitions: this.settings.partitions, cluster, queues: this.givenQueues, onError,
    });
    // One subscriber connection per worker node hears every cancel nudge; producers only publish.
    const subscriber = node.worker ? consumer() : undefined;
    const ports: BackendPorts = {
      store,
      queue,
      // Runs are created on the producer's connection, so the job add can follow on the same socket (see RunCreator.trigger).
      creator: new RedisRunStore(producer, prefix, node.retentionMs, cluster),
      mailbox: new RedisMailboxStore(storeClient, prefix),
      retries: new RedisRetryStore(storeClient, prefix),
      nudges: new RedisCancelNudges(storeClient, subscriber, prefix),
      runEnds: new RedisRunEnds(prefix, consumer),
      schedules: { queue: new BullmqScheduleQueue({ prefix, cluster, producer, consumer, onError }), store: new RedisScheduleStore(storeClient, prefix) },
    };
    if (!node.worker) return ports;
    // Executions write through a client of their own without commandTimeout: after a step
    // blocks the event loop, Node runs timers before it reads the socket, so a timeout would
    // fail writes Redis had answered. The lease, not a timeout, bounds what a hung write holds.
    const workerClient = this.track(
      createClient(connection, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: false }),
    );
    await connectOrExplain(workerClient, this.where, connectTimeoutMs);
    // Made whether or not a flow here is capped: a flow that lost its cap in a deploy may have runs in line.
    const slots = new RedisConcurrencySlots(workerClient, prefix);
    return {
      ...ports,
      executions: { store: new RedisRunStore(workerClient, prefix, node.retentionMs, cluster), mailbox: new RedisMailboxStore(workerClient, prefix) },
      slots,
      upkeep: (host) =>
        new Maintenance({ ...host, store, queue, slots, leaseMs: node.leaseMs, retentionMs: node.retentionMs, logger: node.logger, timerGraceMs: TIMER_GRACE_MS }),
    };
  }

  ping(timeoutMs: number): Promise<number> {
    if (!this.pingClient) return Promise.reject(new Error('not connected'));
    return pingLatency(this.pingClient, timeoutMs);
  }

  async close(withinMs: number): Promise<void> {
    const closeBy = Date.now() + withinMs;
    this.watch.close();
    // The stores only borrow their clients: every client is closed once, here (a second QUIT on a
    // closed ioredis client makes it reconnect, which held the process open for two seconds).
    // QUIT lets a healthy Redis answer what is in flight; a silent one is not waited for.
    await Promise.all(
      this.clients.map(async (client) => {
        await settlesWithin(client.quit().catch(() => undefined), closeBy - Date.now());
        if (client.status !== 'end') client.disconnect();
      }),
    );
  }

  private track(client: RedisClient): RedisClient {
    this.clients.push(this.watch.watch(client));
    return client;
  }
}
