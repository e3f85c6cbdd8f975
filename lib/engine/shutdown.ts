import type { RunQueue } from './ports';
import type { RunExecutor } from './worker/run-executor';

/** Past shutdownTimeout: how long the runs in hand get to be handed back, then to drop the connections. */
const HAND_BACK_MS = 1000;
const DISCONNECT_MS = 500;

export interface ShutdownParts {
  queue?: RunQueue;
  executor?: RunExecutor;
  /** Drops the backend's connections, given how long they may take to close cleanly. */
  disconnect?: (withinMs: number) => Promise<void>;
  shutdownTimeoutMs: number;
}

/**
 * Stops taking work, lets executions in hand finish (up to shutdownTimeout,
 * then hands their runs back), and closes every connection, within about
 * shutdownTimeout + 1.5 s whatever Redis does: past the grace period nothing
 * waits on Redis beyond a short, fixed bound.
 */
export async function shutDown(deps: ShutdownParts): Promise<void> {
  let closeBy = Date.now() + DISCONNECT_MS;
  if (deps.queue) {
    const queue = deps.queue;
    const stopped = queue.stopWorker().catch(() => undefined);
    if (!(await settlesWithin(stopped, deps.shutdownTimeoutMs))) {
      // Handing back needs Redis; with Redis gone the lease runs out instead, as after a crash.
      deps.executor?.releaseAll();
      const handedBack = await settlesWithin(stopped, HAND_BACK_MS);
      closeBy = Date.now() + DISCONNECT_MS;
      // Recording a job's end needs Redis too: past this, the worker is closed without it.
      if (!handedBack) await settlesWithin(queue.forceStop().catch(() => undefined), closeBy - Date.now());
    } else {
      closeBy = Date.now() + DISCONNECT_MS;
    }
    await settlesWithin(queue.close().catch(() => undefined), closeBy - Date.now());
  }
  await deps.disconnect?.(closeBy - Date.now());
}

/** True when `promise` settles within `ms`; false (leaving it to settle whenever) otherwise. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
