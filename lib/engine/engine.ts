import { runIdOf, type GoTickApi, type RunHandle, type TriggerArgs } from '../common/api';
import { toMs, type Duration } from '../common/duration';
import { GoTickConfigError, GoTickError, UnknownFlowError } from '../common/errors';
import { flowIdOf, type FlowRef } from '../common/flow-ref';
import type { GoTickInterceptor } from '../common/interceptors';
import type {
  CancelOptions,
  CancelResult,
  ListRunsQuery,
  RetryResult,
  RunCounts,
  RunPage,
  RunView,
  ScheduleSpec,
  ScheduleView,
  TriggerItem,
  TriggerManyOptions,
  TriggerOptions,
  TriggerResult,
  WaitForRunOptions,
} from '../common/types';
import type { EngineBackend } from './backend';
import type { RunQueueSpec } from './bullmq/given-queues';
import { EngineNode } from './engine-node';
import type { EngineLogger, FlowDefinition } from './flow-definition';
import { FlowRegistry } from './flow-registry';
import { probeHealth, type EngineHealth } from './health';
import type { MetricsRegistry } from './observe/metrics';
import { buildObservers, type Observers } from './observe/observers';
import { checkInterceptors, resolveOptions, type GoTickEngineOptions, type ResolvedOptions } from './options';
import type { RedisClient } from './redis/connection';
import { RedisBackend } from './redis-backend';
import type { RunControl } from './run-control';
import type { RunCreator } from './run-creator';
import { isRunId } from './run-id';
import { countRuns, listRuns } from './run-queries';
import { toRunView } from './run-view';
import { waitUntilEnded } from './run-waiter';
import type { Scheduler } from './schedules/scheduler';
import { shutDown } from './shutdown';

/**
 * The durable runtime without Nest: register flows, start, trigger. The Nest
 * module wraps exactly this; use it directly in plain Node or in benchmarks.
 * @public
 */
export class GoTickEngine implements GoTickApi {
  private readonly registry = new FlowRegistry();
  private readonly settings: ResolvedOptions;
  /** What runs are kept and queued on: options.backend (the testing kit's memory), or Redis. */
  private readonly backend: EngineBackend;
  /** The Redis backend, unless options.backend replaced it: the BullMQ queue hooks live there. */
  private readonly redis?: RedisBackend;
  /** Everything start() wired on the backend's ports. */
  private node?: EngineNode;
  private state: 'new' | 'starting' | 'started' | 'closed' = 'new';
  private readonly observers: Observers;

  constructor(private readonly options: GoTickEngineOptions = {}) {
    this.settings = resolveOptions(options);
    this.observers = buildObservers(this.settings);
    this.redis = options.backend ? undefined : new RedisBackend(options.connection, this.settings);
    this.backend = options.backend ?? this.redis!;
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
    this.registry.add(flow, (added: FlowDefinition) => this.backend.wrapFlow?.(added) ?? added);
  }

  /** Ids of the registered flows, sorted. */
  async listFlows(): Promise<string[]> {
    return this.flowIds();
  }

  /** Connects to Redis (failing with a clear error if it cannot) and, unless worker is false, starts executing runs. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    const settings = this.settings;
    const worker = this.options.worker !== false;
    try {
      const ports = await this.backend.open({ ...settings, worker });
      const onCancelled = (runId: string, wakeParent?: string) => this.runCancelled(runId, wakeParent);
      this.node = new EngineNode(ports, { flows: this.registry.flows, rules: this.registry.rules, settings, observers: this.observers, worker, onCancelled });
      await this.node.start(this.registry.codeSchedules());
      this.state = 'started';
    } catch (err) {
      await this.close();
      throw err;
    }
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
    return listRuns(() => this.started().store, query, () => this.flowIds());
  }

  /**
   * Runs of a registered flow by status, read from its newest 10,000 runs
   * (`counted`), and how many it has in all (`total`). For dashboards: one
   * command per run read, so poll it every few seconds, not in a loop.
   * @throws UnknownFlowError
   */
  async countRuns(flowId: string): Promise<RunCounts> {
    if (!this.registry.flows.has(flowId)) throw new UnknownFlowError(flowId, this.flowIds());
    return countRuns(this.started().store, flowId);
  }

  /**
   * Resolves with the run once it is completed, failed or cancelled. Woken by
   * the run's end (pub/sub on one shared connection), not by polling; a slow
   * poll stays underneath so a lost message cannot strand a waiter.
   */
  async waitForRun<TInput = unknown, TOutput = unknown>(run: RunHandle<TInput, TOutput>, options: WaitForRunOptions = {}): Promise<RunView<TInput, TOutput>> {
    const runId = runIdOf(run);
    const timeoutMs = toMs(options.timeout ?? '30s', 'timeout');
    const { store, runEnds } = this.started();
    const { run: record, steps } = await waitUntilEnded(store, runEnds, runId, timeoutMs);
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
    return this.onRedis('queueSpecs()').queueSpecs();
  }

  /**
   * The connection such queues must be made on: the one runs are written on,
   * so a job never reaches Redis before its run. Made on the first call (not
   * yet connected; start() waits for it), closed by close().
   */
  queueConnection(): RedisClient {
    return this.onRedis('queueConnection()').queueConnection();
  }

  /**
   * Makes the engine use these queues (one per partition, as queueSpecs()
   * says, on queueConnection()) instead of its own. Before start(); their
   * owner closes them.
   * @throws GoTickConfigError when they do not match
   */
  useQueues(queues: ReadonlyArray<unknown>): void {
    const redis = this.onRedis('useQueues()');
    if (this.state !== 'new') throw new GoTickError('useQueues() after start(): hand the engine its queues first.');
    redis.useQueues(queues);
  }

  /**
   * This node's state and one PING of Redis (its latency, or why it failed
   * within `timeout`, default 1s). Never throws: health checks read it.
   */
  health(options: { timeout?: Duration } = {}): Promise<EngineHealth> {
    const backend = this.backend;
    return probeHealth({
      state: this.state,
      workerEnabled: this.options.worker !== false,
      concurrency: this.settings.concurrency,
      ping: backend.ping && ((timeoutMs) => backend.ping!(timeoutMs)),
      where: backend.where,
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
    const backend = this.backend;
    const disconnect = backend.close && ((withinMs: number) => backend.close!(withinMs));
    const { shutdownTimeoutMs } = this.settings;
    // A start() that failed before its node was wired still has connections to drop.
    await (this.node ? this.node.close(shutdownTimeoutMs, disconnect) : shutDown({ disconnect, shutdownTimeoutMs }));
  }

  /**
   * Where a run's end by cancel is announced, on the node that ended it:
   * its unfinished children are cancelled (each cascading further down), and
   * `wakeParent`, a parent waiting for this run, is woken.
   */
  private runCancelled(runId: string, wakeParent?: string): void {
    const children = this.node?.childRuns;
    if (!children || this.state !== 'started') return;
    if (wakeParent) void children.wakeParentQuietly(wakeParent, runId);
    void children
      .cancelChildren(runId, (childRunId, reason) => this.control().cancel(childRunId, { reason }))
      .catch((err: Error) => this.settings.logger.warn(`Run "${runId}" was cancelled, but its child runs could not be read to cancel them: ${err.message}`));
  }

  private creator(): RunCreator {
    return this.started().creator;
  }

  private schedules(): Scheduler {
    const { scheduler } = this.started();
    if (!scheduler) {
      throw new GoTickError('Schedules need Redis (they are BullMQ job schedulers) or the testing kit\'s memory backend; this engine\'s backend has none. Trigger the flow directly instead.');
    }
    return scheduler;
  }

  private control(): RunControl {
    return this.started().control;
  }

  private flowIds(): string[] {
    return this.registry.ids();
  }

  private started(): EngineNode {
    if (this.state !== 'started' || !this.node) {
      throw new GoTickError(
        this.state === 'closed' ? 'GoTick is closed.' : 'GoTick has not started yet: call start() (the Nest module does this at bootstrap).',
      );
    }
    return this.node;
  }

  /** The BullMQ queue hooks make no sense on another backend: say so rather than connect to a Redis nobody configured. */
  private onRedis(what: string): RedisBackend {
    if (!this.redis) throw new GoTickConfigError(`${what}: this engine runs on another backend (the testing kit's memory), which has no BullMQ queues.`);
    return this.redis;
  }
}
