import { randomUUID } from 'node:crypto';
import type { GoTickApi } from '../common/api';
import { toMs } from '../common/duration';
import {
  FlowDefinitionError,
  GoTickError,
  InvalidRunIdError,
  PayloadTooLargeError,
  RedisUnavailableError,
  RunNotFoundError,
  UnknownFlowError,
  WaitForRunTimeoutError,
} from '../common/errors';
import { pollUntilFinished } from '../common/poll-until-finished';
import {
  RUN_STATUSES,
  type ListRunsQuery,
  type RunPage,
  type RunStatus,
  type RunView,
  type TriggerOptions,
  type TriggerResult,
  type WaitForRunOptions,
} from '../common/types';
import { BullmqRunQueue } from './bullmq/run-queue';
import { encode } from './codec';
import type { FlowDefinition } from './flow-definition';
import { IndexSweeper } from './maintenance/index-sweeper';
import { Reconciler } from './maintenance/reconciler';
import { checkedTimeout, resolveOptions, type GoTickEngineOptions, type ResolvedOptions } from './options';
import type { RunQueue, RunStore } from './ports';
import { connectOrExplain, createClient, describeConnection, isCluster, type RedisClient } from './redis/connection';
import { RedisRunStore } from './redis/run-store';
import { toRunSummary, toRunView } from './run-view';
import { RunExecutor } from './worker/run-executor';

const RUN_ID = /^[A-Za-z0-9_.-]{1,200}$/;
const MAX_LIST_LIMIT = 200;

/**
 * The durable runtime without Nest: register flows, start, trigger. The Nest
 * module wraps exactly this; use it directly in plain Node or in benchmarks.
 * @public
 */
export class GoTickEngine implements GoTickApi {
  private readonly flows = new Map<string, FlowDefinition>();
  private readonly clients: RedisClient[] = [];
  private readonly settings: ResolvedOptions;
  private store?: RunStore;
  private queue?: RunQueue;
  private executor?: RunExecutor;
  private sweeper?: IndexSweeper;
  private reconciler?: Reconciler;
  private state: 'new' | 'starting' | 'started' | 'closed' = 'new';

  constructor(private readonly options: GoTickEngineOptions = {}) {
    this.settings = resolveOptions(options);
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
    checkedTimeout(flow.options?.defaults?.timeout, `defaults.timeout of flow "${flow.id}"`);
    this.flows.set(flow.id, flow);
  }

  /** Ids of the registered flows, sorted. */
  async listFlows(): Promise<string[]> {
    return this.flowIds();
  }

  /** Connects to Redis (failing with a clear error if it cannot) and, unless worker is false, starts executing runs. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    const { connection } = this.options;
    const settings = this.settings;
    const where = describeConnection(connection);
    // Producers fail fast while Redis is away (a trigger must not hang); the worker waits it out.
    // No auto-pipelining on the store client: it holds commands until setImmediate, so a step's
    // running marker would wait behind a step body that blocks the event loop.
    const storeClient = this.track(
      createClient(connection, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: false }),
    );
    const producer = this.track(createClient(connection, { lazyConnect: true, maxRetriesPerRequest: 1 }));
    try {
      await connectOrExplain(storeClient, where, settings.connectTimeoutMs);
      await connectOrExplain(producer, where, settings.connectTimeoutMs);
      const store = new RedisRunStore(storeClient, settings.prefix, settings.retentionMs, isCluster(connection));
      const queue = new BullmqRunQueue({
        prefix: settings.prefix,
        producer,
        consumer: () => this.track(createClient(connection, { maxRetriesPerRequest: null })),
        concurrency: settings.concurrency,
        lockMs: settings.leaseMs,
        partitions: settings.partitions,
        cluster: isCluster(connection),
      });
      this.store = store;
      this.queue = queue;
      if (this.options.worker !== false) {
        const executor = (this.executor = new RunExecutor({ store, queue, flows: this.flows, ...settings }));
        await queue.startWorker((runId) => executor.execute(runId));
        this.sweeper = new IndexSweeper(store, () => this.flowIds(), settings.retentionMs, settings.logger);
        this.sweeper.start();
        this.reconciler = new Reconciler(store, queue, settings.logger);
        this.reconciler.start(Math.min(Math.max(settings.leaseMs / 2, 500), 5000));
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
    const maxBytes = this.settings.maxPayloadBytes;
    if (encoded !== undefined && Buffer.byteLength(encoded) > maxBytes) {
      throw new PayloadTooLargeError(`Input of flow "${flowId}"`, Buffer.byteLength(encoded), maxBytes);
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
    const { store } = this.started();
    // One small HGET per poll, backing off from 5 ms to 200 ms: a waiter never
    // depends on having been connected when the run finished, and rides out a Redis blip.
    await pollUntilFinished<RunStatus>({
      read: () => store.status(runId),
      statusOf: (status) => status,
      deadline: Date.now() + timeoutMs,
      notFound: () => new RunNotFoundError(runId),
      timedOut: (status) => new WaitForRunTimeoutError(runId, timeoutMs, status),
      transient: (err) => err instanceof RedisUnavailableError,
      firstPauseMs: 5,
      maxPauseMs: 200,
    });
    return (await this.getRun<TInput, TOutput>(runId))!;
  }

  /**
   * Stops taking work, lets executions in hand finish (up to shutdownTimeout,
   * then hands their runs back), and closes every connection.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.sweeper?.stop();
    this.reconciler?.stop();
    if (this.queue) {
      const stopped = this.queue.stopWorker().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        stopped.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.settings.shutdownTimeoutMs))),
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

  private flowIds(): string[] {
    return [...this.flows.keys()].sort();
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
