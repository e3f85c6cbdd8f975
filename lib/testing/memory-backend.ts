import type { BackendPorts, EngineBackend } from '../engine/backend';
import type { FlowDefinition } from '../engine/flow-definition';
import type { ResolvedOptions } from '../engine/options';
import { MemoryDb } from './memory/memory-db';
import { MemoryMailboxStore } from './memory/memory-mailbox-store';
import { MemoryRetryStore } from './memory/memory-retry-store';
import { MemoryRunQueue } from './memory/memory-run-queue';
import { MemoryRunStore } from './memory/memory-run-store';
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
  private opened?: { db: MemoryDb; queue: MemoryRunQueue };

  constructor(options: { startAt?: Date | number } = {}) {
    const start = options.startAt instanceof Date ? options.startAt.getTime() : options.startAt;
    this.clock = new VirtualClock(start ?? Date.now());
  }

  open(settings: ResolvedOptions): BackendPorts {
    if (this.opened) throw new Error('A MemoryBackend serves one engine; make one per engine.');
    const db = new MemoryDb(this.clock);
    const queue = new MemoryRunQueue(this.clock, settings.concurrency, settings.logger);
    this.opened = { db, queue };
    return {
      store: new MemoryRunStore(db, settings.retentionMs),
      queue,
      mailbox: new MemoryMailboxStore(db),
      retries: new MemoryRetryStore(db),
      nudges: new MemoryCancelNudges(),
      runEnds: new MemoryRunEnds(db),
    };
  }

  wrapFlow(flow: FlowDefinition): FlowDefinition {
    return this.mocks.wrap(flow);
  }

  /** The queue, once the engine has started. */
  get queue(): MemoryRunQueue | undefined {
    return this.opened?.queue;
  }
}
