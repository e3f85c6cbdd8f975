import type { Clock } from './clock';
import type { FlowDefinition } from './flow-definition';
import type { ResolvedOptions } from './options';
import type { CancelNudges, ConcurrencySlots, MailboxStore, RetryStore, RunEnds, RunQueue, RunStore, ScheduleQueue, ScheduleStore } from './ports';

/** The ports a backend opens for one engine. */
export interface BackendPorts {
  store: RunStore;
  queue: RunQueue;
  mailbox: MailboxStore;
  retries: RetryStore;
  nudges: CancelNudges;
  runEnds: RunEnds;
  /** Concurrency caps (without: capped flows run uncapped, with a warning). */
  slots?: ConcurrencySlots;
  /** Schedules (without: schedule() and friends throw, and code schedules do not fire). */
  schedules?: { queue: ScheduleQueue; store: ScheduleStore };
}

/**
 * Replaces Redis and BullMQ under an engine: the testing kit's in-memory
 * backend. Internal: not part of the documented options; users reach it
 * through 'nestjs-gotick/testing'.
 * @internal
 */
export interface EngineBackend {
  /** The clock the engine reads and arms its timers on. */
  readonly clock: Clock;
  /** Called once by start(), after every flow is registered. */
  open(settings: ResolvedOptions): BackendPorts;
  /** Lets the backend wrap each flow as it is registered (the kit's step mocks hook in here). */
  wrapFlow?(flow: FlowDefinition): FlowDefinition;
}
