import { randomBytes, randomUUID } from 'node:crypto';
import { runIdOf, type GoTickApi, type RunHandle, type TriggerArgs } from '../common/api';
import { checkTime, toMs } from '../common/duration';
import {
  FlowDefinitionError,
  GoTickError,
  InvalidDurationError,
  InvalidRunIdError,
  PayloadTooLargeError,
  RedisUnavailableError,
  RunFinishedError,
  RunNotFoundError,
  RunNotRetriableError,
  SignalMailboxFullError,
  UnknownFlowError,
  WaitForRunTimeoutError,
} from '../common/errors';
import { flowIdOf, type FlowRef } from '../common/flow-ref';
import { beforeDeadline, pollUntilFinished } from '../common/poll-until-finished';
import {
  RUN_STATUSES,
  type CancelOptions,
  type CancelResult,
  type ListRunsQuery,
  type RetryResult,
  type RunPage,
  type RunStatus,
  type RunView,
  type TriggerItem,
  type TriggerManyOptions,
  type TriggerOptions,
  type TriggerResult,
  type WaitForRunOptions,
} from '../common/types';
import { BullmqRunQueue } from './bullmq/run-queue';
import { decode, encode } from './codec';
import type { EngineLogger, FlowDefinition } from './flow-definition';
import { IndexSweeper } from './maintenance/index-sweeper';
import { Reconciler } from './maintenance/reconciler';
import { checkedTimeout, resolveOptions, type GoTickEngineOptions, type ResolvedOptions } from './options';
import type { CancelNudges, MailboxStore, RetryStore, RunQueue, RunStore } from './ports';
import { RedisCancelNudges } from './redis/cancel-nudges';
import { connectOrExplain, createClient, describeConnection, isCluster, type RedisClient } from './redis/connection';
import { ConnectionWatch } from './redis/connection-watch';
import { RedisMailboxStore } from './redis/mailbox-store';
import { RedisRetryStore } from './redis/retry-store';
import { RedisRunEnds } from './redis/run-ends';
import { CURSOR, RedisRunStore, TIMER_GRACE_MS } from './redis/run-store';
import { toRunSummary, toRunView } from './run-view';
import { runHooks } from './worker/hooks';
import { checkSignalName, encodeSignal } from './worker/primitives/signals';
import { RunExecutor, cancelledErrorInfo } from './worker/run-executor';

const RUN_ID = /^[A-Za-z0-9_.-]{1,200}$/;
const MAX_LIST_LIMIT = 200;
const MAX_CANCEL_REASON = 1000;
/** Runs written per pipeline and bulk add in triggerMany. */
const TRIGGER_BATCH = 1000;
/** How long waitForRun waits for its subscription before it falls back to plain polling. */
const SUBSCRIBE_WAIT_MS = 1000;
/** The poll under a subscribed waitForRun: only there for a lost message. */
const FALLBACK_FIRST_PAUSE_MS = 250;
const FALLBACK_MAX_PAUSE_MS = 2000;
/** Past shutdownTimeout: how long the runs in hand get to be handed back, then to drop the connections. */
const HAND_BACK_MS = 1000;
const DISCONNECT_MS = 500;

/**
 * The durable runtime without Nest: register flows, start, trigger. The Nest
 * module wraps exactly this; use it directly in plain Node or in benchmarks.
 * @public
 */
export class GoTickEngine implements GoTickApi {
  private readonly flows = new Map<string, FlowDefinition>();
  private readonly clients: RedisClient[] = [];
  private readonly settings: ResolvedOptions;
  private readonly watch: ConnectionWatch;
  private store?: RunStore;
  /** The store on the producer connection, for creating runs. */
  private creator?: RunStore;
  private runEnds?: RedisRunEnds;
  private queue?: RunQueue;
  private nudges?: CancelNudges;
  private mailbox?: MailboxStore;
  private retries?: RetryStore;
  private executor?: RunExecutor;
  private sweeper?: IndexSweeper;
  private reconciler?: Reconciler;
  private state: 'new' | 'starting' | 'started' | 'closed' = 'new';

  constructor(private readonly options: GoTickEngineOptions = {}) {
    this.settings = resolveOptions(options);
    this.watch = new ConnectionWatch(describeConnection(options.connection), this.settings.logger);
  }

  /** The engine's logger behind its logLevel: whatever wraps the engine logs through it too, so one option filters all. */
  get logger(): EngineLogger {
    return this.settings.logger;
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
    // Producers fail fast while Redis is away and time out while it is frozen (a trigger must
    // not hang); the worker waits it out, and its blocking reads must not be cut short.
    const { commandTimeoutMs: commandTimeout } = settings;
    // No auto-pipelining on the store client: it holds commands until setImmediate, so a step's
    // running marker would wait behind a step body that blocks the event loop.
    const storeClient = this.track(
      createClient(connection, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout, enableAutoPipelining: false }),
    );
    const producer = this.track(createClient(connection, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout }));
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
        onError: (source, err) => this.watch.report(source, err),
      });
      const mailbox = new RedisMailboxStore(storeClient, settings.prefix);
      // Runs are created on the producer's connection, so the job add can follow on the same socket (see trigger).
      this.creator = new RedisRunStore(producer, settings.prefix, settings.retentionMs, isCluster(connection));
      this.runEnds = new RedisRunEnds(settings.prefix, () => this.track(createClient(connection, { maxRetriesPerRequest: null })));
      this.store = store;
      this.queue = queue;
      this.mailbox = mailbox;
      this.retries = new RedisRetryStore(storeClient, settings.prefix);
      const worker = this.options.worker !== false;
      // One subscriber connection per worker node hears every cancel nudge; producers only publish.
      const subscriber = worker ? this.track(createClient(connection, { maxRetriesPerRequest: null })) : undefined;
      const nudges = (this.nudges = new RedisCancelNudges(storeClient, subscriber, settings.prefix));
      if (worker) {
        // Executions write through a client of their own without commandTimeout: after a step
        // blocks the event loop, Node runs timers before it reads the socket, so a timeout would
        // fail writes Redis had answered. The lease, not a timeout, bounds what a hung write holds.
        const workerClient = this.track(
          createClient(connection, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: false }),
        );
        await connectOrExplain(workerClient, where, settings.connectTimeoutMs);
        const executor = (this.executor = new RunExecutor({
          store: new RedisRunStore(workerClient, settings.prefix, settings.retentionMs, isCluster(connection)),
          queue,
          mailbox: new RedisMailboxStore(workerClient, settings.prefix),
          flows: this.flows,
          ...settings,
          onCancelled: (runId) => this.runCancelled(runId),
        }));
        await nudges.listen((runId, reason) => executor.nudge(runId, reason));
        await queue.startWorker((runId, request) => executor.execute(runId, request));
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
  trigger<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, ...args: TriggerArgs<TInput>): Promise<TriggerResult<TInput, TOutput>>;
  trigger<TInput = unknown>(flowId: string, input?: TInput, options?: TriggerOptions): Promise<TriggerResult>;
  async trigger(flow: string | FlowRef, input?: unknown, options: TriggerOptions = {}): Promise<TriggerResult> {
    const run = this.prepareRun(flowIdOf(flow), input, options);
    const { queue } = this.started();
    // One round trip: the job add goes out right behind the create, on the same
    // connection, so Redis runs them in that order (no worker can take the job
    // before the run exists) and the trigger waits for both replies at once.
    // The add does not wait to learn whether the run was new: for a run still
    // queued it heals a trigger that died between the two writes (the job id
    // dedupes a job still waiting); for a run already under way or finished it
    // is a spare job that the claim turns away without touching the run (it
    // carries this call's request id, which is not the run's createdBy). A
    // crash between the two writes is the reconciler's, from the run's timer.
    try {
      const request = randomBytes(9).toString('base64url');
      const [created] = await Promise.all([this.creator!.create({ ...run, request }), queue.enqueueNew(run.runId, run.dueAt - run.createdAt, request)]);
      return { runId: run.runId, created };
    } catch (err) {
      // A failed call does not prove nothing was written (the run may exist and
      // will then execute): the caller gets the id to retry with, safely.
      if (err instanceof RedisUnavailableError) err.runId = run.runId;
      throw err;
    }
  }

  /**
   * Starts many runs of one flow: each item is `{ input?, runId?, delay?, timeout? }`
   * (its own options over the shared `options`), answered in order. Idempotent
   * per runId like trigger. Every item is checked before anything is written;
   * the runs are then written in pipelined batches of 1,000 and enqueued with
   * one bulk add per batch.
   * @throws UnknownFlowError, InvalidRunIdError, InvalidDurationError, NotSerializableError, PayloadTooLargeError (naming the item)
   */
  triggerMany<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<Array<TriggerResult<TInput, TOutput>>>;
  triggerMany<TInput = unknown>(flowId: string, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<TriggerResult[]>;
  async triggerMany(flow: string | FlowRef, items: ReadonlyArray<TriggerItem>, options: TriggerManyOptions = {}): Promise<TriggerResult[]> {
    const flowId = flowIdOf(flow);
    if (!Array.isArray(items)) throw new GoTickError(`triggerMany: items must be an array of { input?, runId?, delay?, timeout? }; got ${typeof items}.`);
    const runs = items.map((item, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw new GoTickError(`triggerMany: item ${i} must be an object { input?, runId?, delay?, timeout? }; wrap a bare input as { input }.`);
      }
      try {
        return this.prepareRun(flowId, item.input, { delay: item.delay ?? options.delay, timeout: item.timeout ?? options.timeout, runId: item.runId });
      } catch (err) {
        if (err instanceof GoTickError && !(err instanceof UnknownFlowError)) err.message = `triggerMany item ${i}: ${err.message}`;
        throw err;
      }
    });
    const { store, queue } = this.started();
    const results: TriggerResult[] = [];
    for (let from = 0; from < runs.length; from += TRIGGER_BATCH) {
      const batch = runs.slice(from, from + TRIGGER_BATCH);
      const created = await this.creator!.createMany(batch);
      // As in trigger: a run that exists and is still queued gets its job again (deduped by job id).
      const queued = await Promise.all(batch.map((run, i) => (created[i] ? true : store.status(run.runId).then((status) => status === 'queued'))));
      const toEnqueue = batch.filter((_, i) => queued[i]).map((run) => ({ runId: run.runId, delayMs: run.dueAt - run.createdAt }));
      if (toEnqueue.length) await queue.enqueueNewMany(toEnqueue);
      batch.forEach((run, i) => results.push({ runId: run.runId, created: created[i] }));
    }
    return results;
  }

  /** Checks a trigger's arguments and builds the run record to write. */
  private prepareRun(flowId: string, input: unknown, options: TriggerOptions): { runId: string; flowId: string; input?: string; createdAt: number; dueAt: number; timeoutMs?: number } {
    if (!this.flows.has(flowId)) throw new UnknownFlowError(flowId, this.flowIds());
    const runId = options.runId ?? randomUUID();
    if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw new InvalidRunIdError(runId);
    const delayMs = options.delay === undefined ? 0 : toMs(options.delay, 'delay');
    if (delayMs > 0) checkTime(Date.now() + delayMs, `delay ${JSON.stringify(options.delay)} (start time)`);
    const timeout = options.timeout ?? this.flows.get(flowId)!.options?.timeout;
    const timeoutMs = timeout === undefined ? undefined : toMs(timeout, 'timeout');
    if (timeoutMs !== undefined && timeoutMs <= 0) {
      throw new InvalidDurationError(`Invalid timeout ${JSON.stringify(timeout)} of flow "${flowId}": a whole-run timeout must be positive.`);
    }
    const encoded = encode(input, `Input of flow "${flowId}"`);
    const maxBytes = this.settings.maxPayloadBytes;
    if (encoded !== undefined && Buffer.byteLength(encoded) > maxBytes) {
      throw new PayloadTooLargeError(`Input of flow "${flowId}"`, Buffer.byteLength(encoded), maxBytes);
    }
    const createdAt = Date.now();
    return { runId, flowId, input: encoded, createdAt, dueAt: createdAt + delayMs, timeoutMs };
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
    if (query.cursor !== undefined && (typeof query.cursor !== 'string' || !CURSOR.test(query.cursor))) {
      throw new GoTickError(`listRuns: malformed cursor "${query.cursor}"; pass back the nextCursor of a previous page.`);
    }
    // Without a flow id the list spans every flow this node knows.
    const flowIds = query.flowId !== undefined ? [query.flowId] : this.flowIds();
    const page = await this.started().store.list({ flowIds, status: query.status, cursor: query.cursor, limit });
    return { runs: page.runs.map(toRunSummary), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }

  /**
   * Resolves with the run once it is completed, failed or cancelled. Woken by
   * the run's end (pub/sub on one shared connection), not by polling; a slow
   * poll stays underneath so a lost message cannot strand a waiter.
   */
  async waitForRun<TInput = unknown, TOutput = unknown>(run: RunHandle<TInput, TOutput>, options: WaitForRunOptions = {}): Promise<RunView<TInput, TOutput>> {
    const runId = runIdOf(run);
    const timeoutMs = toMs(options.timeout ?? '30s', 'timeout');
    const { store } = this.started();
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    let wake: (() => void) | undefined;
    let stopWatching: (() => void) | undefined;
    // Listening before the first read: an end between that read and the subscription cannot be missed.
    const watching = this.runEnds!.watch(runId, () => {
      ended = true;
      wake?.();
    });
    try {
      stopWatching = await beforeDeadline(watching, Math.min(deadline, Date.now() + SUBSCRIBE_WAIT_MS), () => new RedisUnavailableError('no subscription'));
    } catch {
      // No subscription (Redis away or slow): plain polling, at the pace of old; a late one is let go.
      void watching.then((stop) => stop(), () => undefined);
    }
    try {
      await pollUntilFinished<RunStatus>({
        read: () => store.status(runId),
        statusOf: (status) => status,
        deadline,
        notFound: () => new RunNotFoundError(runId),
        timedOut: (status) => new WaitForRunTimeoutError(runId, timeoutMs, status),
        transient: (err) => err instanceof RedisUnavailableError,
        // One small HGET per poll: 5 ms to 200 ms apart without a subscription, a slow safety net with one.
        firstPauseMs: stopWatching ? FALLBACK_FIRST_PAUSE_MS : 5,
        maxPauseMs: stopWatching ? FALLBACK_MAX_PAUSE_MS : 200,
        // A message only cuts one pause short: should the run not read as ended (say it was
        // retried since), the waiter goes back to pausing rather than reading in a loop.
        pause: (ms) =>
          ended
            ? Promise.resolve((ended = false))
            : new Promise<void>((resolve) => {
                const timer = setTimeout(() => {
                  wake = undefined;
                  resolve();
                }, ms);
                wake = () => {
                  wake = undefined;
                  clearTimeout(timer);
                  resolve();
                };
              }),
      });
    } finally {
      wake = undefined;
      stopWatching?.();
    }
    return (await this.getRun<TInput, TOutput>(runId))!;
  }

  /**
   * Cancels a run. Queued or sleeping: cancelled here and now, in one script,
   * and its OnFlowCancel hooks run on this node (if this node registered the
   * flow). Running: the request is stored in the run and every worker node is
   * nudged; the node executing it aborts its tasks and ends it cancelled, and
   * runs the hooks there. From the moment this returns `cancelled`, the run
   * can end no other way. A finished run answers its status, unchanged.
   * @throws RunNotFoundError, GoTickError (bad reason), RedisUnavailableError
   */
  async cancel(runId: string, options: CancelOptions = {}): Promise<CancelResult> {
    if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw new RunNotFoundError(String(runId));
    const reason = options.reason ?? '';
    if (typeof reason !== 'string' || reason.length > MAX_CANCEL_REASON) {
      throw new GoTickError(`cancel: reason must be a string of at most ${MAX_CANCEL_REASON} characters.`);
    }
    const { store } = this.started();
    const reply = await store.cancel(runId, reason, cancelledErrorInfo(runId, reason));
    switch (reply.kind) {
      case 'missing':
        throw new RunNotFoundError(runId);
      case 'finished':
        return { runId, status: reply.status };
      case 'requested':
        // The request is durable already; a lost nudge only means the run stops at its next heartbeat or write.
        await this.nudges!.publish(runId, reply.reason).catch((err: Error) => {
          this.settings.logger.warn(`Cancel of run "${runId}" is stored, but the nudge to its node failed (${err.message}); it stops at its next heartbeat.`);
        });
        return { runId, status: 'cancelled' };
      case 'cancelled': {
        // Only the call whose script cancelled the parked run gets here: the hooks run once.
        const flow = this.flows.get(reply.flowId);
        if (flow) {
          await runHooks(this.settings.logger, 'OnFlowCancel', flow.hooks?.onCancel, { runId, flowId: reply.flowId, input: decode(reply.input) }, { reason: reason || undefined });
        } else {
          this.settings.logger.warn(`Run "${runId}" was cancelled, but this node does not have flow "${reply.flowId}": its OnFlowCancel hooks did not run.`);
        }
        this.runCancelled(runId);
        return { runId, status: 'cancelled' };
      }
    }
  }

  /**
   * Where a run's end by cancel is announced, on the node that ended it.
   * Child runs (a later issue) will be cancelled with their parent from here.
   */
  private runCancelled(_runId: string): void {
    // Cascading to child runs hooks in here.
  }

  /**
   * Puts a signal in the run's mailbox (FIFO per name, kept until a wait
   * takes it) and, if the run sleeps waiting for `name`, wakes it at once.
   */
  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    checkSignalName(name);
    const { store, queue } = this.started();
    if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw new RunNotFoundError(String(runId));
    const sentAt = Date.now();
    const encoded = encodeSignal(name, payload, sentAt);
    const maxBytes = this.settings.maxPayloadBytes;
    if (encoded.length * 3 > maxBytes && Buffer.byteLength(encoded) > maxBytes) {
      throw new PayloadTooLargeError(`Payload of signal "${name}"`, Buffer.byteLength(encoded), maxBytes);
    }
    const sent = await this.mailbox!.send(runId, name, encoded, this.settings.maxSignalsPerRun);
    switch (sent.kind) {
      case 'missing':
        throw new RunNotFoundError(runId);
      case 'finished':
        throw new RunFinishedError(runId, sent.status);
      case 'full':
        throw new SignalMailboxFullError(runId, this.settings.maxSignalsPerRun);
    }
    if (!sent.wake) return;
    // The resume lane: no priority, so it goes ahead of new runs. The timer
    // catches a wake-up lost should this process die before the job is added;
    // the job's id, recorded first, lets the reconciler see it waiting in a backlog.
    const jobId = queue.resumeJobId(runId);
    await Promise.all([store.setTimer(runId, sentAt + TIMER_GRACE_MS), store.setResumeJob(runId, jobId)]);
    await queue.enqueueResumeJob(runId, sentAt, jobId);
  }

  /**
   * Sends a failed or cancelled run back to the queue: completed steps keep
   * their results, the step that failed starts over with fresh attempts, and
   * the run's earlier error stays in its view (`previousErrors`, `retries`).
   */
  async retry(runId: string): Promise<RetryResult> {
    const { store, queue } = this.started();
    if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw new RunNotFoundError(String(runId));
    const now = Date.now();
    const result = await this.retries!.retry(runId, now);
    if (result.kind === 'missing') throw new RunNotFoundError(runId);
    if (result.kind === 'not-retriable') throw new RunNotRetriableError(runId, result.status);
    // A fresh job id (the resume lane), never the trigger's: its id may still be held by BullMQ.
    // Recorded with the run first, so the reconciler can see the job waiting in a backlog.
    const jobId = queue.resumeJobId(runId);
    await Promise.all([store.setTimer(runId, now + TIMER_GRACE_MS), store.setResumeJob(runId, jobId)]);
    await queue.enqueueResumeJob(runId, now, jobId);
    return { runId, status: 'queued' };
  }

  /**
   * Stops taking work, lets executions in hand finish (up to shutdownTimeout,
   * then hands their runs back), and closes every connection. Returns within
   * about shutdownTimeout + 1.5 s whatever Redis does: past the grace period
   * nothing waits on Redis beyond a short, fixed bound.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.sweeper?.stop();
    this.reconciler?.stop();
    let closeBy = Date.now() + DISCONNECT_MS;
    if (this.queue) {
      const queue = this.queue;
      const stopped = queue.stopWorker().catch(() => undefined);
      if (!(await settlesWithin(stopped, this.settings.shutdownTimeoutMs))) {
        // Handing back needs Redis; with Redis gone the lease runs out instead, as after a crash.
        this.executor?.releaseAll();
        const handedBack = await settlesWithin(stopped, HAND_BACK_MS);
        closeBy = Date.now() + DISCONNECT_MS;
        // Recording a job's end needs Redis too: past this, the worker is closed without it.
        if (!handedBack) await settlesWithin(queue.forceStop().catch(() => undefined), closeBy - Date.now());
      } else {
        closeBy = Date.now() + DISCONNECT_MS;
      }
      await settlesWithin(queue.close().catch(() => undefined), closeBy - Date.now());
    }
    this.watch.close();
    // The store only borrows its client: every client is closed once, here (a second QUIT on a
    // closed ioredis client makes it reconnect, which held the process open for two seconds).
    // QUIT lets a healthy Redis answer what is in flight; a silent one is not waited for.
    await Promise.all(
      this.clients.map(async (client) => {
        await settlesWithin(client.quit().catch(() => undefined), closeBy - Date.now());
        if (client.status !== 'end') client.disconnect();
      }),
    );
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
    this.clients.push(this.watch.watch(client));
    return client;
  }
}

/** True when `promise` settles within `ms`; false (leaving it to settle whenever) otherwise. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
