import type { Clock } from './clock';
import type { ConcurrencyRule } from './concurrency';
import type { EngineLogger, FlowDefinition } from './flow-definition';
import type { CancelNudges, ConcurrencySlots, MailboxStore, RetryStore, RunEnds, RunQueue, RunStore, ScheduleQueue, ScheduleStore } from './ports';

/**
 * What a backend is told when start() opens it: the few resolved options it
 * sizes itself by. Declared here, not taken from the engine's options, so the
 * options can name a backend without the backend naming them back.
 */
export interface BackendSettings {
  /** Runs this node executes at once. */
  concurrency: number;
  /** An execution's lease: a run's job lock lasts as long. */
  leaseMs: number;
  /** How long finished runs stay readable; 0 keeps them. */
  retentionMs: number;
  logger: EngineLogger;
  /** false on a trigger-only node: nothing executes here, so nothing is opened for executions. */
  worker: boolean;
}

/** What a backend's upkeep works with on a worker node. */
export interface UpkeepHost {
  /** Flows with a concurrency cap. */
  rules: ReadonlyMap<string, ConcurrencyRule>;
  /** Whether this node has the flow, capped or not. */
  hasFlow(flowId: string): boolean;
  /** Ids of this node's flows. */
  flowIds(): string[];
}

/** Background work a backend needs beside the executions of a worker node; started after the worker, stopped first by close(). */
export interface Upkeep {
  /** Told of each run parked on this node until a time (none: each park keeps a delayed queue job). */
  readonly timerPump?: { wakeBy(at: number): void };
  start(): void;
  stop(): void;
}

/** The ports a backend opens for one engine. */
export interface BackendPorts {
  store: RunStore;
  queue: RunQueue;
  mailbox: MailboxStore;
  retries: RetryStore;
  nudges: CancelNudges;
  runEnds: RunEnds;
  /** Where runs are created, when not `store` (Redis: the queue's producer connection, so the job add follows on one socket). */
  creator?: RunStore;
  /** What executions write through, when not `store` and `mailbox` (Redis: a connection of their own, without commandTimeout). */
  executions?: { store: RunStore; mailbox: MailboxStore };
  /** Concurrency caps (without, on a worker node: capped flows run uncapped, with a warning). */
  slots?: ConcurrencySlots;
  /** Schedules (without: schedule() and friends throw, and code schedules do not fire). */
  schedules?: { queue: ScheduleQueue; store: ScheduleStore };
  /** Upkeep for a worker node (Redis: timer pump, reconciler, index sweeper, slot reconciler); none where nothing is lost or expires on its own. */
  upkeep?(host: UpkeepHost): Upkeep;
}

/**
 * What an engine runs on: Redis and BullMQ (the default), or the testing
 * kit's in-memory backend. Internal: not part of the documented options;
 * users reach the memory one through 'nestjs-gotick/testing'.
 * @internal
 */
export interface EngineBackend {
  /** The clock the engine reads and arms its timers on. */
  readonly clock: Clock;
  /** Called once by start(), after every flow is registered. */
  open(settings: BackendSettings): BackendPorts | Promise<BackendPorts>;
  /** Lets the backend wrap each flow as it is registered (the kit's step mocks hook in here). */
  wrapFlow?(flow: FlowDefinition): FlowDefinition;
  /** Milliseconds one round trip to the backend's server took, for health(); absent where there is no server. */
  ping?(timeoutMs: number): Promise<number>;
  /** Where the server is, for health()'s reason (no password). */
  readonly where?: string;
  /** The last step of close(): drops every connection, waiting at most `withinMs` for them to close cleanly. Called even when open() failed or never ran. */
  close?(withinMs: number): Promise<void>;
}
