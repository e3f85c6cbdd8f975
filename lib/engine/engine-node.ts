import type { BackendPorts, Upkeep } from './backend';
import { ChildRunService } from './child-runs';
import type { ConcurrencyRule } from './concurrency';
import type { FlowDefinition } from './flow-definition';
import { composeChains, type Observers } from './observe/observers';
import type { ResolvedOptions } from './options';
import type { RunEnds, RunQueue, RunStore, ScheduleQueue } from './ports';
import { RunControl } from './run-control';
import { RunCreator } from './run-creator';
import type { CheckedSchedule } from './schedules/schedule-spec';
import { Scheduler } from './schedules/scheduler';
import { shutDown } from './shutdown';
import { ConcurrencyGate } from './worker/concurrency-gate';
import { RunExecutor } from './worker/run-executor';

export interface EngineNodeDeps {
  flows: ReadonlyMap<string, FlowDefinition>;
  /** Flows with a concurrency cap. */
  rules: ReadonlyMap<string, ConcurrencyRule>;
  settings: ResolvedOptions;
  observers: Observers;
  /** false on a trigger-only node: no executor, no upkeep, no schedule worker. */
  worker: boolean;
  /** Where a run's end by cancel is announced, on the node that ended it; `wakeParent`: the parent waiting for it. */
  onCancelled: (runId: string, wakeParent?: string) => void;
}

/**
 * What start() builds on one node from a backend's ports, the same for every
 * backend: creating runs, acting on them, schedules, and on a worker node the
 * executor with its gate and the backend's upkeep.
 */
export class EngineNode {
  readonly store: RunStore;
  readonly queue: RunQueue;
  readonly runEnds: RunEnds;
  readonly creator: RunCreator;
  readonly control: RunControl;
  readonly childRuns: ChildRunService;
  readonly scheduler?: Scheduler;
  readonly executor?: RunExecutor;
  private readonly scheduleQueue?: ScheduleQueue;
  private readonly upkeep?: Upkeep;
  private readonly unwatchQueue?: () => void;

  constructor(
    private readonly ports: BackendPorts,
    deps: EngineNodeDeps,
  ) {
    const { flows, rules, settings, observers, onCancelled } = deps;
    const { store, queue } = ports;
    const { logger, clock, maxPayloadBytes } = settings;
    this.store = store;
    this.queue = queue;
    this.runEnds = ports.runEnds;
    this.creator = new RunCreator({ creator: ports.creator ?? store, store, queue, flows, settings, traceTrigger: observers.traceTrigger });
    this.unwatchQueue = observers.metrics?.watchQueue(() => queue.jobCounts());
    this.childRuns = new ChildRunService({ creator: this.creator, store, queue, logger, clock });
    this.control = new RunControl({
      store, queue, mailbox: ports.mailbox, retries: ports.retries, nudges: ports.nudges, flows, settings, onCancelled, onParkedRunCancelled: observers.metrics?.parkedRunCancelled,
    });
    if (ports.schedules) {
      this.scheduleQueue = ports.schedules.queue;
      this.scheduler = new Scheduler({ ...ports.schedules, runs: store, creator: this.creator, flows, maxPayloadBytes, logger });
    }
    if (!deps.worker) return;
    const { slots } = ports;
    if (rules.size && !slots) {
      const capped = [...rules.keys()].map((id) => `"${id}"`).join(', ');
      logger.warn(`Concurrency caps of ${capped} are not applied on this backend (it has no slots): runs execute as they come.`);
    }
    const gate = slots && new ConcurrencyGate({ slots, queue, leaseMs: settings.leaseMs, logger, clock });
    this.upkeep = ports.upkeep?.({ rules, hasFlow: (flowId) => flows.has(flowId), flowIds: () => [...flows.keys()].sort() });
    const executions = ports.executions ?? { store, mailbox: ports.mailbox };
    this.executor = new RunExecutor({
      ...executions,
      queue,
      flows,
      ...settings,
      onCancelled: (runId) => onCancelled(runId),
      slots: gate && { gate, rules },
      children: this.childRuns,
      ...composeChains(observers, settings.interceptors),
      timerPump: this.upkeep?.timerPump,
    });
  }

  /** Brings the backend in line with the schedules the code declares, then, on a worker node, starts taking work. */
  async start(codeSchedules: CheckedSchedule[]): Promise<void> {
    // Every node, trigger-only ones too, syncs the schedules its code declares.
    await this.scheduler?.syncCode(codeSchedules);
    const { executor, scheduler } = this;
    if (!executor) return;
    await this.ports.nudges.listen((runId, reason) => executor.nudge(runId, reason));
    await this.queue.startWorker((runId, request) => executor.execute(runId, request));
    this.upkeep?.start();
    if (scheduler) await this.scheduleQueue?.startWorker((slot) => scheduler.fire(slot));
  }

  /** Stops the upkeep, the schedules and the queue (see shutDown), then `disconnect`s the backend. */
  async close(shutdownTimeoutMs: number, disconnect?: (withinMs: number) => Promise<void>): Promise<void> {
    this.unwatchQueue?.();
    this.upkeep?.stop();
    // Alongside the runs' shutdown, within its bound: a slot in hand gets up to a second to start
    // its run; one cut off is fired again by another node, into the same run.
    const scheduleQueue = this.scheduleQueue;
    const schedulesStopped = scheduleQueue?.stopWorker(Math.min(shutdownTimeoutMs, 1000)).then(() => scheduleQueue.close());
    await shutDown({ queue: this.queue, executor: this.executor, disconnect, shutdownTimeoutMs });
    await schedulesStopped;
  }
}
