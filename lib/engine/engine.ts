import { runIdOf, type GoTickApi, type RunHandle, type TriggerArgs } from '../common/api';
import { toMs, type Duration } from '../common/duration';
import { FlowDefinitionError, GoTickConfigError, GoTickError, UnknownFlowError } from '../common/errors';
import { flowIdOf, type FlowRef } from '../common/flow-ref';
import {
  RUN_STATUSES,
  type CancelOptions,
  type CancelResult,
  type ListRunsQuery,
  type RetryResult,
  type RunCounts,
  type RunPage,
  type RunView,
  type ScheduleSpec,
  type ScheduleView,
  type TriggerItem,
  type TriggerManyOptions,
  type TriggerOptions,
  type TriggerResult,
  type WaitForRunOptions,
} from '../common/types';
import { checkGivenQueues, runQueueSpecs, type GivenQueue, type RunQueueSpec } from './bullmq/given-queues';
import type { EngineBackend } from './backend';
import { BullmqRunQueue } from './bullmq/run-queue';
import { BullmqScheduleQueue } from './bullmq/schedule-queue';
import { probeHealth, type EngineHealth } from './health';
import type { EngineLogger, FlowDefinition } from './flow-definition';
import { IndexSweeper } from './maintenance/index-sweeper';
import { Reconciler } from './maintenance/reconciler';
import { TimerPump } from './maintenance/timer-pump';
import { checkedTimeout, checkInterceptors, resolveOptions, type GoTickEngineOptions, type ResolvedOptions } from './options';
import type { RunEnds, RunQueue, RunRecord, RunStore, ScheduleQueue } from './ports';
import { RedisCancelNudges } from './redis/cancel-nudges';
import { connectOrExplain, createClient, describeConnection, isCluster, type RedisClient } from './redis/connection';
import { ConnectionWatch } from './redis/connection-watch';
import { RedisMailboxStore } from './redis/mailbox-store';
import { RedisRetryStore } from './redis/retry-store';
import { RedisRunEnds } from './redis/run-ends';
import { CURSOR } from './redis/run-index';
import { RedisRunStore, TIMER_GRACE_MS } from './redis/run-store';
import { RedisScheduleStore } from './redis/schedule-store';
import { RunControl } from './run-control';
import { ChildRunService } from './child-runs';
import { RunCreator } from './run-creator';
import { isRunId } from './run-id';
import { toRunSummary, toRunView } from './run-view';
import { waitUntilEnded } from './run-waiter';
import { codeSchedules, type CheckedSchedule } from './schedules/schedule-spec';
import { declaredSchedules, Scheduler } from './schedules/scheduler';
import { shutDown } from './shutdown';
import { RunExecutor } from './worker/run-executor';
import { concurrencyRule, type ConcurrencyRule } from './concurrency';
import { RedisConcurrencySlots } from './redis/concurrency-slots';
import { ConcurrencyGate } from './worker/concurrency-gate';
import { SlotReconciler } from './maintenance/slot-reconciler';
import { buildObservers, composeChains, type Observers } from './observe/observers';
import type { GoTickInterceptor } from '../common/interceptors';
import type { MetricsRegistry } from './observe/metrics';

const MAX_LIST_LIMIT = 200;
/** countRuns reads the statuses of this many of a flow's newest runs at most: one HGET each. */
const COUNT_SAMPLE = 10_000;

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
  private runEnds?: RunEnds;
  private queue?: RunQueue;
  private runCreator?: RunCreator;
  private runControl?: RunControl;
  private childRuns?: ChildRunService;
  private executor?: RunExecutor;
  private sweeper?: IndexSweeper;
  private reconciler?: Reconciler;
  /** Flows with a concurrency cap, checked at register(). */
  private readonly concurrencyRules = new Map<string, ConcurrencyRule>();
  private slotReconciler?: SlotReconciler;
  private scheduleQueue?: ScheduleQueue;
  private scheduler?: Scheduler;
  /** The schedules each registered flow declares (@Flow(id, { schedule })), checked at register(). */
  private readonly codeSchedules = new Map<string, CheckedSchedule[]>();
  private timerPump?: TimerPump;
  private state: 'new' | 'starting' | 'started' | 'closed' = 'new';
  /** The connection runs are created and jobs added on (made early when queueConnection() is asked first). */
  private producer?: RedisClient;
  /** Queues made outside (see useQueues); the engine makes its own otherwise. */
  private givenQueues?: GivenQueue[];
  /** The store's connection, which health() pings. */
  private pingClient?: RedisClient;
  private readonly observers: Observers;
  private unwatchQueue?: () => void;

  constructor(private readonly options: GoTickEngineOptions = {}) {
    this.settings = resolveOptions(options);
    this.observers = buildObservers(this.settings);
    this.watch = new ConnectionWatch(describeConnection(options.connection), this.settings.logger);
  }

  /** The engine's logger behind its logLevel: whatever wraps the engine logs through it too, so one option filters all. */
  get logger(): EngineLogger {
    return this.settings.logger;
  }

  /** The prom-client registry GoTick's metrics are in (the `metrics` option), or undefined when metrics are off. */
  get metricsRegistry(): MetricsRegistry | undefined {
    return this.observers.metrics?.registry;
  }

  /**
   * Adds interceptors after those of the `interceptors` option (the Nest
   * module adds its injected ones here, once the app's providers exist).
   * Must happen before start().
   */
  intercept(...interceptors: GoTickInterceptor[]): void {
    if (this.state !== 'new') throw new GoTickError('Interceptors added after start(); add every interceptor first.');
    this.settings.interceptors.push(...checkInterceptors(interceptors));
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
    const rule = concurrencyRule(flow.id, flow.options);
    if (rule) this.concurrencyRules.set(flow.id, rule);
    const schedules = codeSchedules(flow.id, flow.options?.schedule);
    declaredSchedules([...[...this.codeSchedules].map(([id, list]) => ({ id, schedules: list })), { id: flow.id, schedules }]);
    this.flows.set(flow.id, this.options.backend?.wrapFlow?.(flow) ?? flow);
    this.codeSchedules.set(flow.id, schedules);
  }

  /** Ids of the registered flows, sorted. */
  async listFlows(): Promise<string[]> {
    return this.flowIds();
  }

  /** Connects to Redis (failing with a clear error if it cannot) and, unless worker is false, starts executing runs. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    if (this.options.backend) return this.startOn(this.options.backend);
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
    const producer = this.producerClient();
    try {
      await connectOrExplain(storeClient, where, settings.connectTimeoutMs);
      await connectOrExplain(producer, where, settings.connectTimeoutMs);
      const store = new RedisRunStore(storeClient, settings.prefix, settings.retentionMs, isCluster(connection));
      this.pingClient = storeClient;
      const queue = new BullmqRunQueue({
        prefix: settings.prefix,
        producer,
        consumer: () => this.track(createClient(connection, { maxRetriesPerRequest: null })),
        concurrency: settings.concurrency,
        lockMs: settings.leaseMs,
        partitions: settings.partitions,
        cluster: isCluster(connection),
        queues: this.givenQueues,
        onError: (source, err) => this.watch.report(source, err),
      });
      this.runEnds = new RedisRunEnds(settings.prefix, () => this.track(createClient(connection, { maxRetriesPerRequest: null })));
      this.store = store;
      this.queue = queue;
      // Runs are created on the producer's connection, so the job add can follow on the same socket (see RunCreator.trigger).
      const creator = new RedisRunStore(producer, settings.prefix, settings.retentionMs, isCluster(connection));
      this.runCreator = new RunCreator({ creator, store, queue, flows: this.flows, settings, traceTrigger: this.observers.traceTrigger });
      this.unwatchQueue = this.observers.metrics?.watchQueue(() => queue.jobCounts());
      this.childRuns = new ChildRunService({ creator: this.runCreator, store, queue, logger: settings.logger, clock: settings.clock });
      const scheduleQueue = (this.scheduleQueue = new BullmqScheduleQueue({
        prefix: settings.prefix,
        cluster: isCluster(connection),
        producer,
        consumer: () => this.track(createClient(connection, { maxRetriesPerRequest: null })),
        onError: (source, err) => this.watch.report(source, err),
      }));
      const scheduler = (this.scheduler = new Scheduler({
        queue: scheduleQueue,
        store: new RedisScheduleStore(storeClient, settings.prefix),
        runs: store,
        creator: this.runCreator,
        flows: this.flows,
        maxPayloadBytes: settings.maxPayloadBytes,
        logger: settings.logger,
      }));
      // Every node, trigger-only ones too, brings Redis in line with the schedules its code declares.
      await scheduler.syncCode([...this.codeSchedules.values()].flat());
      const worker = this.options.worker !== false;
      // One subscriber connection per worker node hears every cancel nudge; producers only publish.
      const subscriber = worker ? this.track(createClient(connection, { maxRetriesPerRequest: null })) : undefined;
      const nudges = new RedisCancelNudges(storeClient, subscriber, settings.prefix);
      this.runControl = new RunControl({
        store,
        queue,
        mailbox: new RedisMailboxStore(storeClient, settings.prefix),
        retries: new RedisRetryStore(storeClient, settings.prefix),
        nudges,
        flows: this.flows,
        settings,
        onCancelled: (runId, wakeParent) => this.runCancelled(runId, wakeParent),
        onParkedRunCancelled: this.observers.metrics?.parkedRunCancelled,
      });
      if (worker) {
        // Executions write through a client of their own without commandTimeout: after a step
        // blocks the event loop, Node runs timers before it reads the socket, so a timeout would
        // fail writes Redis had answered. The lease, not a timeout, bounds what a hung write holds.
        const workerClient = this.track(
          createClient(connection, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: false }),
        );
        await connectOrExplain(workerClient, where, settings.connectTimeoutMs);
        // Also without a capped flow here: a flow that lost its cap in a deploy may have runs in line.
        const slots = new RedisConcurrencySlots(workerClient, settings.prefix);
        const gate = new ConcurrencyGate({ slots, queue, leaseMs: settings.leaseMs, logger: settings.logger });
        const chains = composeChains(this.observers, settings.interceptors);
        const timerPump = (this.timerPump = new TimerPump(store, queue, settings.logger, TIMER_GRACE_MS));
        const executor = (this.executor = new RunExecutor({
          store: new RedisRunStore(workerClient, settings.prefix, settings.retentionMs, isCluster(connection)),
          queue,
          mailbox: new RedisMailboxStore(workerClient, settings.prefix),
          flows: this.flows,
          ...settings,
          onCancelled: (runId) => this.runCancelled(runId),
          slots: { gate, rules: this.concurrencyRules },
          children: this.childRuns,
          interceptRun: chains.interceptRun,
          interceptStep: chains.interceptStep,
          tracing: settings.tracing,
          timerPump,
        }));
        await nudges.listen((runId, reason) => executor.nudge(runId, reason));
        await queue.startWorker((runId, request) => executor.execute(runId, request));
        timerPump.start();
        this.sweeper = new IndexSweeper(store, () => this.flowIds(), settings.retentionMs, settings.logger);
        this.sweeper.start();
        await scheduleQueue.startWorker((slot) => scheduler.fire(slot));
        this.reconciler = new Reconciler(store, queue, settings.logger);
        this.reconciler.start(Math.min(Math.max(settings.leaseMs / 2, 500), 5000));
        this.slotReconciler = new SlotReconciler(slots, gate, this.concurrencyRules, (flowId) => this.flows.has(flowId), settings.leaseMs);
        this.slotReconciler.start(Math.min(Math.max(settings.leaseMs / 4, 250), 5000));
      }
      this.state = 'started';
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * start() on a backend other than Redis (the testing kit's memory): the same
   * wiring, with no connections, reconciler or index sweeper (the backend
   * loses no jobs and expires records itself).
   */
  private async startOn(backend: EngineBackend): Promise<void> {
    const settings = this.settings;
    const ports = backend.open(settings);
    const { store, queue, slots } = ports;
    if (this.concurrencyRules.size && !slots) {
      const capped = [...this.concurrencyRules.keys()].map((id) => `"${id}"`).join(', ');
      settings.logger.warn(`Concurrency caps of ${capped} are not applied on this backend (it has no slots): runs execute as they come.`);
    }
    this.store = store;
    this.queue = queue;
    this.runEnds = ports.runEnds;
    const onCancelled = (runId: string, wakeParent?: string) => this.runCancelled(runId, wakeParent);
    const { traceTrigger, metrics } = this.observers;
    this.runCreator = new RunCreator({ creator: store, store, queue, flows: this.flows, settings, traceTrigger });
    this.unwatchQueue = metrics?.watchQueue(() => queue.jobCounts());
    this.childRuns = new ChildRunService({ creator: this.runCreator, store, queue, logger: settings.logger, clock: settings.clock });
    this.runControl = new RunControl({
      store, queue, mailbox: ports.mailbox, retries: ports.retries, nudges: ports.nudges, flows: this.flows, settings, onCancelled, onParkedRunCancelled: metrics?.parkedRunCancelled,
    });
    const { maxPayloadBytes, logger, clock } = settings;
    const scheduler = ports.schedules && (this.scheduler = new Scheduler({ ...ports.schedules, runs: store, creator: this.runCreator, flows: this.flows, maxPayloadBytes, logger }));
    await scheduler?.syncCode([...this.codeSchedules.values()].flat());
    if (this.options.worker !== false) {
      const chains = composeChains(this.observers, settings.interceptors);
      // No slot reconciler: on a backend whose workers cannot die, every slot is given back and every hand-over starts.
      const gate = slots && { gate: new ConcurrencyGate({ slots, queue, leaseMs: settings.leaseMs, logger, clock }), rules: this.concurrencyRules };
      const executor = (this.executor = new RunExecutor({ store, queue, mailbox: ports.mailbox, flows: this.flows, ...settings, onCancelled, ...chains, children: this.childRuns, slots: gate }));
      await ports.nudges.listen((runId, reason) => executor.nudge(runId, reason));
      await queue.startWorker((runId, request) => executor.execute(runId, request));
      if (scheduler) await (this.scheduleQueue = ports.schedules!.queue).startWorker((slot) => scheduler.fire(slot));
    }
    this.state = 'started';
  }

  /**
   * Starts a run. With an explicit runId the call is idempotent: a second
   * trigger with the same id starts nothing and reports `created: false`.
   * One round trip. A failed call does not prove nothing was written: the
   * error carries the runId to retry with, safely.
   */
  trigger<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, ...args: TriggerArgs<TInput>): Promise<TriggerResult<TInput, TOutput>>;
  trigger<TInput = unknown>(flowId: string, input?: TInput, options?: TriggerOptions): Promise<TriggerResult>;
  trigger(flow: string | FlowRef, input?: unknown, options: TriggerOptions = {}): Promise<TriggerResult> {
    return this.creator().trigger(flowIdOf(flow), input, options);
  }

  /**
   * Starts many runs of one flow: each item is `{ input?, runId?, delay?, timeout? }`
   * (its own options over the shared `options`), answered in order. Idempotent
   * per runId like trigger; every item is checked before anything is written.
   * @throws UnknownFlowError, InvalidRunIdError, InvalidDurationError, NotSerializableError, PayloadTooLargeError (naming the item)
   */
  triggerMany<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<Array<TriggerResult<TInput, TOutput>>>;
  triggerMany<TInput = unknown>(flowId: string, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<TriggerResult[]>;
  triggerMany(flow: string | FlowRef, items: ReadonlyArray<TriggerItem>, options: TriggerManyOptions = {}): Promise<TriggerResult[]> {
    return this.creator().triggerMany(flowIdOf(flow), items, options);
  }

  /** The run with all its steps, or null when there is no such run. */
  async getRun<TInput = unknown, TOutput = unknown>(runId: string): Promise<RunView<TInput, TOutput> | null> {
    if (!isRunId(runId)) return null;
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
    let page: { runs: RunRecord[]; nextCursor?: string };
    if (query.parentRunId !== undefined) {
      if (!isRunId(query.parentRunId)) throw new GoTickError(`listRuns: parentRunId ${JSON.stringify(query.parentRunId)} is not a run id.`);
      const flowIds = query.flowId !== undefined ? [query.flowId] : undefined;
      page = await this.started().store.listChildren(query.parentRunId, { flowIds, status: query.status, cursor: query.cursor, limit });
    } else {
      // Without a flow id the list spans every flow this node knows.
      const flowIds = query.flowId !== undefined ? [query.flowId] : this.flowIds();
      page = await this.started().store.list({ flowIds, status: query.status, cursor: query.cursor, limit });
    }
    return { runs: page.runs.map(toRunSummary), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  }

  /**
   * Runs of a registered flow by status, read from its newest 10,000 runs
   * (`counted`), and how many it has in all (`total`). For dashboards: one
   * command per run read, so poll it every few seconds, not in a loop.
   * @throws UnknownFlowError
   */
  async countRuns(flowId: string): Promise<RunCounts> {
    if (!this.flows.has(flowId)) throw new UnknownFlowError(flowId, this.flowIds());
    const { total, statuses, counted } = await this.started().store.counts(flowId, COUNT_SAMPLE);
    const byStatus = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as RunCounts['byStatus'];
    for (const status of statuses) if (status in byStatus) byStatus[status]++;
    return { flowId, total, counted, byStatus };
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
    const { run: record, steps } = await waitUntilEnded(store, this.runEnds!, runId, timeoutMs);
    return toRunView(record, steps) as RunView<TInput, TOutput>;
  }

  /**
   * Cancels a run. Queued or sleeping: cancelled here and now, and its
   * OnFlowCancel hooks run on this node. Running: every worker node is nudged
   * and the one executing it stops it. A finished run answers its status.
   * @throws RunNotFoundError, GoTickError (bad reason), RedisUnavailableError
   */
  cancel(runId: string, options: CancelOptions = {}): Promise<CancelResult> {
    return this.control().cancel(runId, options);
  }

  /**
   * Puts a signal in the run's mailbox (FIFO per name, kept until a wait
   * takes it) and, if the run sleeps waiting for `name`, wakes it at once.
   * @throws RunNotFoundError, RunFinishedError, SignalMailboxFullError, PayloadTooLargeError, InvalidSignalNameError
   */
  signal(runId: string, name: string, payload?: unknown): Promise<void> {
    return this.control().signal(runId, name, payload);
  }

  /**
   * Sends a failed or cancelled run back to the queue: completed steps keep
   * their results, the step that failed starts over with fresh attempts.
   * @throws RunNotFoundError, RunNotRetriableError
   */
  retry(runId: string): Promise<RetryResult> {
    return this.control().retry(runId);
  }

  /**
   * Creates or replaces schedule `scheduleId`: runs of `flowId` on a cron (in
   * an IANA zone) or an interval. Each slot starts at most one run, whatever
   * the number of nodes; with overlap 'skip' (default) a slot is skipped while
   * the schedule's previous run is still live. Calling it again with the same
   * spec changes nothing.
   * @throws InvalidScheduleError (naming the bad cron, zone or interval), UnknownFlowError, NotSerializableError, PayloadTooLargeError
   */
  schedule<TInput, TOutput>(scheduleId: string, flow: FlowRef<TInput, TOutput>, spec: ScheduleSpec<TInput>): Promise<ScheduleView>;
  schedule(scheduleId: string, flowId: string, spec: ScheduleSpec): Promise<ScheduleView>;
  schedule(scheduleId: string, flow: string | FlowRef, spec: ScheduleSpec): Promise<ScheduleView> {
    return this.schedules().schedule(scheduleId, flowIdOf(flow), spec);
  }

  /** Removes a schedule and its pending slot; false when there was no such schedule. Runs already started go on. */
  unschedule(scheduleId: string): Promise<boolean> {
    return this.schedules().unschedule(scheduleId);
  }

  /** Every schedule (from code and from schedule()), by id, with its next slot, last run and skipped count. */
  listSchedules(): Promise<ScheduleView[]> {
    return this.schedules().list();
  }

  /**
   * For integrations that own BullMQ Queue objects (the Nest module registers
   * them with @nestjs/bullmq): the BullMQ name and key prefix of each
   * partition's run queue, in partition order.
   */
  queueSpecs(): RunQueueSpec[] {
    this.withoutBackend('queueSpecs()');
    return runQueueSpecs(this.settings.prefix, this.settings.partitions, isCluster(this.options.connection));
  }

  /**
   * The connection such queues must be made on: the one runs are written on,
   * so a job never reaches Redis before its run. Made on the first call (not
   * yet connected; start() waits for it), closed by close().
   */
  queueConnection(): RedisClient {
    return this.producerClient();
  }

  /**
   * Makes the engine use these queues (one per partition, as queueSpecs()
   * says, on queueConnection()) instead of its own. Before start(); their
   * owner closes them.
   * @throws GoTickConfigError when they do not match
   */
  useQueues(queues: ReadonlyArray<unknown>): void {
    this.withoutBackend('useQueues()');
    if (this.state !== 'new') throw new GoTickError('useQueues() after start(): hand the engine its queues first.');
    this.givenQueues = checkGivenQueues(queues, this.queueSpecs());
    // They connect as soon as they are made: an outage before start() must reach our log, not Node's.
    for (const queue of this.givenQueues) queue.on('error', (err) => this.watch.report('BullMQ queue', err));
  }

  /**
   * This node's state and one PING of Redis (its latency, or why it failed
   * within `timeout`, default 1s). Never throws: health checks read it.
   */
  health(options: { timeout?: Duration } = {}): Promise<EngineHealth> {
    return probeHealth({
      state: this.state,
      workerEnabled: this.options.worker !== false,
      concurrency: this.settings.concurrency,
      client: this.pingClient,
      inMemory: this.options.backend !== undefined,
      where: describeConnection(this.options.connection),
      timeoutMs: toMs(options.timeout ?? '1s', 'timeout'),
    });
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
    this.unwatchQueue?.();
    this.sweeper?.stop();
    this.reconciler?.stop();
    this.slotReconciler?.stop();
    this.timerPump?.stop();
    // Alongside the runs' shutdown, within its bound: a slot in hand gets up to a second to start
    // its run; one cut off is fired again by another node, into the same run.
    const scheduleQueue = this.scheduleQueue;
    const schedulesStopped = scheduleQueue?.stopWorker(Math.min(this.settings.shutdownTimeoutMs, 1000)).then(() => scheduleQueue.close());
    await shutDown({ queue: this.queue, executor: this.executor, clients: this.clients, watch: this.watch, shutdownTimeoutMs: this.settings.shutdownTimeoutMs });
    await schedulesStopped;
  }

  /**
   * Where a run's end by cancel is announced, on the node that ended it:
   * its unfinished children are cancelled (each cascading further down), and
   * `wakeParent`, a parent waiting for this run, is woken.
   */
  private runCancelled(runId: string, wakeParent?: string): void {
    const children = this.childRuns;
    if (!children || this.state !== 'started') return;
    if (wakeParent) void children.wakeParentQuietly(wakeParent, runId);
    void children
      .cancelChildren(runId, (childRunId, reason) => this.control().cancel(childRunId, { reason }))
      .catch((err: Error) => this.settings.logger.warn(`Run "${runId}" was cancelled, but its child runs could not be read to cancel them: ${err.message}`));
  }

  private creator(): RunCreator {
    this.started();
    return this.runCreator!;
  }

  private schedules(): Scheduler {
    this.started();
    if (!this.scheduler) {
      throw new GoTickError('Schedules need Redis (they are BullMQ job schedulers) or the testing kit\'s memory backend; this engine\'s backend has none. Trigger the flow directly instead.');
    }
    return this.scheduler;
  }

  private control(): RunControl {
    this.started();
    return this.runControl!;
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

  /** The BullMQ queue hooks make no sense on another backend: say so rather than connect to a Redis nobody configured. */
  private withoutBackend(what: string): void {
    if (this.options.backend) throw new GoTickConfigError(`${what}: this engine runs on another backend (the testing kit's memory), which has no BullMQ queues.`);
  }

  private producerClient(): RedisClient {
    // Producers fail fast while Redis is away and time out while it is frozen: a trigger must not hang.
    this.producer ??= this.track(
      createClient(this.options.connection, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: this.settings.commandTimeoutMs }),
    );
    return this.producer;
  }

  private track(client: RedisClient): RedisClient {
    this.clients.push(this.watch.watch(client));
    return client;
  }
}
