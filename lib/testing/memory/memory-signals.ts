import type { CancelNudges, RunEnds } from '../../engine/ports';
import type { MemoryDb } from './memory-db';

/** Cancel nudges within one process: every listener hears every nudge, after the publishing call returns (as pub/sub would). */
export class MemoryCancelNudges implements CancelNudges {
  private readonly listeners: Array<(runId: string, reason: string) => void> = [];

  async publish(runId: string, reason: string): Promise<void> {
    queueMicrotask(() => {
      for (const listener of this.listeners) listener(runId, reason);
    });
  }

  async listen(onNudge: (runId: string, reason: string) => void): Promise<void> {
    this.listeners.push(onNudge);
  }
}

/** Run ends as the memory store announces them (finish and cancel). */
export class MemoryRunEnds implements RunEnds {
  constructor(private readonly db: MemoryDb) {}

  async watch(runId: string, onEnd: () => void): Promise<() => void> {
    return this.db.onEnd((ended) => {
      if (ended === runId) onEnd();
    });
  }
}
