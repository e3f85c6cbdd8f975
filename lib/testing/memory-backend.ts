import type { BackendPorts, BackendSettings, EngineBackend } from '../engine/backend';
import type { FlowDefinition } from '../engine/flow-definition';
import { MemoryConcurrencySlots } from './memory/memory-concurrency-slots';
import { MemoryDb } from './memory/memory-db';
import { MemoryMailboxStore } from './memory/memory-mailbox-store';
import { MemoryRetryStore } from './memory/memory-retry-store';
import { MemoryRunQueue } from './memory/memory-run-queue';
import { MemoryRunStore } from './memory/memory-run-store';
import { MemoryScheduleQueue, MemoryScheduleStore } from './memory/memory-schedules';
import { MemoryCancelNudges, MemoryRunEnds } from './memory/memory-signals';
import { StepMocks } from './step-mocks';
import { VirtualClock } from './virtual-clock';

/**
 * Redis and BullMQ replaced by memory, on a virtual clock: what
 * createTestEngine and GoTickTestingModule run the engine on. One backend
 * serves one engine.
 */
export class MemoryBackend implements EngineBackend {
  readonly clock: VirtualClock;
  readonly mocks = new StepMocks();
  private readonly registered = new Set<string>();
  private opened?: { db: MemoryDb; queue: MemoryRunQueue; schedules: MemoryScheduleQueue };

  constructor(options: { startAt?: Date | number } = {}) {
    const start = options.startAt instanceof Date ? options.startAt.getTime() : options.startAt;
    this.clock = new VirtualClock(start ?? Date.now());
  }

  open(settings: BackendSettings): BackendPorts {
    if (this.opened) throw new Error('A MemoryBackend serves one engine; make one per engine.');
    const db = new MemoryDb(this.clock);
    const queue = new MemoryRunQueue(this.clock, settings.concurrency, settings.logger);
    const slots = new MemoryConcurrencySlots(db, this.clock);
    const schedules = new MemoryScheduleQueue(this.clock, settings.logger);
    this.opened = { db, queue, schedules };
    return {
      store: new MemoryRunStore(db, settings.retentionMs, (flowId) => this.mocks.childOf(flowId)),
      queue,
      mailbox: new MemoryMailboxStore(db),
      retries: new MemoryRetryStore(db),
      nudges: new MemoryCancelNudges(),
      runEnds: new MemoryRunEnds(db),
      slots,
      schedules: { queue: schedules, store: new MemoryScheduleStore() },
    };
  }

  wrapFlow(flow: FlowDefinition): FlowDefinition {
    this.registered.add(flow.id);
    return this.mocks.wrap(flow);
  }

  /** Ids of the flows the engine registered, sorted. */
  flowIds(): string[] {
    return [...this.registered].sort();
  }

  /** The queue, once the engine has started. */
  get queue(): MemoryRunQueue | undefined {
    return this.opened?.queue;
  }

  /** The schedules' queue, once the engine has started. */
  get schedules(): MemoryScheduleQueue | undefined {
    return this.opened?.schedules;
  }
}
