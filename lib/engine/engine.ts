import { randomUUID } from 'node:crypto';
import { BullmqRunQueue } from './bullmq/run-queue';
import { encode } from './codec';
import { toMs, type Duration } from './duration';
import {
  FlowDefinitionError,
  GoTickConfigError,
  GoTickError,
  InvalidRunIdError,
  PayloadTooLargeError,
  RedisUnavailableError,
  RunNotFoundError,
  UnknownFlowError,
  WaitForRunTimeoutError,
} from './errors';
import type { EngineLogger, FlowDefinition } from './flow-definition';
import type { RunQueue, RunStore } from './ports';
import { connectOrExplain, createClient, describeConnection, isCluster, type RedisClient, type RedisConnection } from './redis/connection';
import { RedisRunStore } from './redis/run-store';
import { Reconciler } from './reconciler';
import { RunExecutor } from './run-executor';
import { toRunSummary, toRunView } from './run-view';
import {
  RUN_STATUSES,
  TERMINAL_STATUSES,
  type Backoff,
  type ListRunsQuery,
  type RunPage,
  type RunStatus,
  type RunView,
  type TriggerOptions,
  type TriggerResult,
  type WaitForRunOptions,
} from './types';

/** Options of the engine; GoTickModule.forRoot takes the same. @public */
export interface GoTickEngineOptions {
  /** Redis: a URL, ioredis options, an ioredis instance, or a Cluster. Default 127.0.0.1:6379. */
  connection?: RedisConnection;
  /**
   * How many BullMQ queues the work is spread over (default 1). On a Redis
   * Cluster each partition is its own hash slot, so more partitions spread
   * the queue load over more shards.
   */
  partitions?: number;
  /** Every key and queue lives under this prefix. Default 'gotick'. */
  prefix?: string;
  /** `false` makes a trigger-only node (GoTick's client role): it starts runs but executes none. */
  worker?: false | {
    /** Runs executed at once by this node. Default 10. */
    concurrency?: number;
    /** How long an execution's lease (and job lock) lasts without renewal; a crashed worker's run is retried after about this long. Default '30s'. */
    lease?: Duration;
  };
  /** Step defaults for every flow. */
  defaults?: {
    /** Retries after the first attempt. Default 3. */
    retries?: number;
    /** Default: exponential from 1s, at most 5m. */
    backoff?: Backoff;
  };
  /** How long finished runs stay readable before Redis expires them. Default '7d'; 0 keeps them forever. */
  retention?: Duration;
  limits?: {
    /** Largest run input or step result, in bytes of JSON. Default 1 MiB. */
    maxPayloadBytes?: number;
  };
  /** How long start() waits for Redis before failing. Default '10s'. */
  connectTimeout?: Duration;
  /**
   * How long close() lets running steps finish. Past it, their runs are
   * handed back so another node resumes them at once. Default '10s'.
   */
  shutdownTimeout?: Duration;
  logger?: EngineLogger;
}

const RUN_ID = /^[A-Za-z0-9_.-]{1,200}$/;
const MAX_LIST_LIMIT = 200;

const silentLogger: EngineLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The durable runtime without Nest: register flows, start, trigger. The Nest
 * module wraps exactly this; use it directly in plain Node or in benchmarks.
 * @public
 */
export class GoTickEngine {
  private readonly flows = new Map<string, FlowDefinition>();
  private readonly clients: RedisClient[] = [];
  private store?: RunStore;
  private queue?: RunQueue;
  private executor?: RunExecutor;
  private sweeper?: NodeJS.Timeout;
  private reconciler?: Reconciler;
  private readonly prefix: string;
  private readonly leaseMs: number;
  private readonly maxPayloadBytes: number;
  private readonly retentionMs: number;
  private readonly partitions: number;
  private state: 'new' | 'starting' | 'started' | 'closed' = 'new';

  constructor(private readonly options: GoTickEngineOptions = {}) {
    this.prefix = options.prefix ?? 'gotick';
    if (!/^[^\s:]{1,64}$/.test(this.prefix) && !/^\{[^\s]{1,62}\}$/.test(this.prefix)) {
      throw new GoTickConfigError(`Invalid prefix ${JSON.stringify(this.prefix)}: 1-64 characters, no spaces or colons.`);
    }
    const connection = options.connection;
    if (connection && typeof connection === 'object' && 'keyPrefix' in connection && (connection as { keyPrefix?: string }).keyPrefix) {
      throw new GoTickConfigError('The ioredis "keyPrefix" option breaks BullMQ; use the GoTick "prefix" option instead.');
    }
    this.leaseMs = toMs(options.worker ? (options.worker.lease ?? '30s') : '30s', 'worker.lease');
    this.maxPayloadBytes = options.limits?.maxPayloadBytes ?? 1024 * 1024;
    this.retentionMs = toMs(options.retention ?? '7d', 'retention');
    this.partitions = options.partitions ?? 1;
    if (!Number.isInteger(this.partitions) || this.partitions < 1 || this.partitions > 1024) {
      throw new GoTickConfigError(`Invalid partitions ${JSON.stringify(options.partitions)}: an integer from 1 to 1024.`);
    }
  }

  /** Adds a flow. Must happen before start(). */
  register(flow: FlowDefinition): void {
    if (this.state !== 'new') throw new GoTickError(`Flow "${flow.id}" registered after start(); register every flow first.`);
    // Braces are refused because a flow id is part of an index key, where they would act as a Cluster hash tag.
    if (typeof flow.id !== 'string' || !/^[^\s{}]{1,200}$/.test(flow.id)) {
      throw new FlowDefinitionError(`Invalid flow id ${JSON.stringify(flow.id)}: 1-200 characters, no whitespace or braces.`);
    }
    if (this.flows.has(flow.id)) {
      throw new FlowDefinitionError(`Flow id "${flow.id}" is registered twice. Each @Flow id must be unique in the app.`);
    }
    this.flows.set(flow.id, flow);
  }

  /** Ids of the registered flows, sorted. */
  flowIds(): string[] {
    return [...this.flows.keys()].sort();
  }

  /** Connects to Redis (failing with a clear error if it cannot) and, unless worker is false, starts executing runs. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    const connection = this.options.connection;
    const where = describeConnection(connection);
    const timeout = toMs(this.options.connectTimeout ?? '10s', 'connectTimeout');
    // Producers fail fast while Redis is away (a trigger must not hang); the worker waits it out.
    const storeClient = this.track(createClient(connection, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 }));
    const producer = this.track(createClient(connection, { lazyConnect: true, maxRetriesPerRequest: 1 }));
    try {
      await connectOrExplain(storeClient, where, timeout);
      await connectOrExplain(producer, where, timeout);
      const worker = this.options.worker;
      const logger = this.options.logger ?? silentLogger;
      const store = new RedisRunStore(storeClient, this.prefix, this.retentionMs, isCluster(connection));
      const queue = new BullmqRunQueue({
        prefix: this.prefix,
        producer,
        consumer: () => this.track(createClient(connection, { maxRetriesPerRequest: null })),
        concurrency: worker === false ? 1 : (worker?.concurrency ?? 10),
        lockMs: this.leaseMs,
        partitions: this.partitions,
        cluster: isCluster(connection),
      });
      this.store = store;
      this.queue = queue;
      if (worker !== false) {
        const executor = (this.executor = new RunExecutor({
          store,
          queue,
          flows: this.flows,
          leaseMs: this.leaseMs,
          retries: this.options.defaults?.retries ?? 3,
          backoff: this.options.defaults?.backoff ?? { type: 'exponential', delay: '1s', maxDelay: '5m' },
          maxPayloadBytes: this.maxPayloadBytes,
          logger,
        }));
        await queue.startWorker((runId) => executor.execute(runId));
        this.startSweeper(store, logger);
        this.reconciler = new Reconciler(store, queue, logger);
        this.reconciler.start(Math.min(Math.max(this.leaseMs / 2, 500), 5000));
      }
      this.state = 'started';
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * Starts a run. With an explicit runId the call is idempotent: a second
   * trigger with the same id starts nothing and reports `created: false`.
   */
  async trigger<TInput = unknown>(flowId: string, input?: TInput, options: TriggerOptions = {}): Promise<TriggerResult> {
    if (!this.flows.has(flowId)) throw new UnknownFlowError(flowId, this.flowIds());
    const runId = options.runId ?? randomUUID();
    if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw new InvalidRunIdError(runId);
    const delayMs = options.delay === undefined ? 0 : toMs(options.delay, 'delay');
    const encoded = encode(input, `Input of flow "${flowId}"`);
    if (encoded !== undefined && Buffer.byteLength(encoded) > this.maxPayloadBytes) {
      throw new PayloadTooLargeError(`Input of flow "${flowId}"`, Buffer.byteLength(encoded), this.maxPayloadBytes);
    }
    const { store, queue } = this.started();
    const createdAt = Date.now();
    const created = await store.create({ runId, flowId, input: encoded, createdAt, dueAt: createdAt + delayMs });
    // A retried trigger re-enqueues a run still queued: it heals a trigger that
    // died between writing the run and enqueueing it. The job id dedupes the rest.
    if (created || (await store.status(runId)) === 'queued') await queue.enqueueNew(runId, delayMs);
    return { runId, created };
  }

  /** The run with all its steps, or null when there is no such run. */
  async getRun<TInput = unknown, TOutput = unknown>(runId: string): Promise<RunView<TInput, TOutput> | null> {
    if (typeof runId !== 'string' || !RUN_ID.test(runId)) return null;
    const found = await this.started().store.get(runId);
    return found ? (toRunView(found.run, found.steps) as RunView<TInput, TOutput>) : null;
  }

  /** Runs, newest first, optionally of one flow and one status. */
  async listRuns(query: ListRunsQuery = {}): Promise<RunPage> {
    const limit = query.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new GoTickError(`listRuns: limit must be an integer from 1 to ${MAX_LIST_LIMIT}; got ${limit}.`);
    }
    if (query.status !== undefined && !RUN_STATUSES.includes(query.status)) {
      throw new GoTickError(`listRuns: unknown status "${query.status}"; use one of ${RUN_STATUSES.join(', ')}.`);
    }
    if (query.cursor !== undefined && !/^\d+(\.\d+)?$/.test(query.cursor)) {
      throw new GoTickError(`listRuns: malformed cursor "${query.cursor}"; pass back the nextCursor of a previous page.`);
    }
    // Without a flow id the list spans every flow this node knows.
    const flowIds = query.flowId !== undefined ? [query.flowId] : this.flowIds();
    const page = await this.started().store.list({ flowIds, status: query.status, cursor: query.cursor, limit });
    return { runs: page.runs.map(toRunSummary), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }

  /** Resolves with the run once it is completed, failed or cancelled. */
  async waitForRun<TInput = unknown, TOutput = unknown>(runId: string, options: WaitForRunOptions = {}): Promise<RunView<TInput, TOutput>> {
    const timeoutMs = toMs(options.timeout ?? '30s', 'timeout');
    const deadline = Date.now() + timeoutMs;
    const { store } = this.started();
    // Polls one small HGET, backing off from 5 ms to 200 ms: cheap, and a
    // waiter never depends on having been connected when the run finished.
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      let status: string | null;
      try {
        status = await store.status(runId);
      } catch (err) {
        // A waiter outlives a Redis blip: keep polling while the client reconnects, up to the deadline.
        if (!(err instanceof RedisUnavailableError) || Date.now() >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (status === null) throw new RunNotFoundError(runId);
      if (TERMINAL_STATUSES.has(status as RunStatus)) return (await this.getRun<TInput, TOutput>(runId))!;
      if (Date.now() >= deadline) throw new WaitForRunTimeoutError(runId, timeoutMs, status);
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(1, deadline - Date.now()))));
    }
  }

  /**
   * Stops taking work, lets executions in hand finish (up to shutdownTimeout,
   * then hands their runs back), and closes every connection.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.sweeper);
    this.reconciler?.stop();
    if (this.queue) {
      const stopped = this.queue.stopWorker().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const graceMs = toMs(this.options.shutdownTimeout ?? '10s', 'shutdownTimeout');
      const inTime = await Promise.race([
        stopped.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!inTime) this.executor?.releaseAll();
      await stopped;
      await this.queue.close().catch(() => undefined);
    }
    // The store only borrows its client: every client is closed once, here (a second QUIT on a
    // closed ioredis client makes it reconnect, which held the process open for two seconds).
    await Promise.all(this.clients.map((client) => client.quit().catch(() => client.disconnect())));
  }

  /**
   * Index entries outlive the runs they point to (run records expire on their
   * own); a worker node sweeps them now and then so listing stays cheap and
   * Redis returns to its baseline.
   */
  private startSweeper(store: RunStore, logger: EngineLogger): void {
    const retentionMs = this.retentionMs;
    if (retentionMs === 0) return;
    const everyMs = Math.min(Math.max(retentionMs / 4, 1000), 60_000);
    this.sweeper = setInterval(() => {
      store.sweepIndexes(this.flowIds(), Date.now() - retentionMs).catch((err: Error) => {
        logger.warn(`Index sweep failed (will retry): ${err.message}`);
      });
    }, everyMs);
    this.sweeper.unref();
  }

  private started(): { store: RunStore; queue: RunQueue } {
    if (this.state !== 'started' || !this.store || !this.queue) {
      throw new GoTickError(
        this.state === 'closed' ? 'GoTick is closed.' : 'GoTick has not started yet: call start() (the Nest module does this at bootstrap).',
      );
    }
    return { store: this.store, queue: this.queue };
  }

  private track(client: RedisClient): RedisClient {
    this.clients.push(client);
    return client;
  }
}
