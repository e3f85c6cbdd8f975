import type { RunQueue } from './ports';
import type { RedisClient } from './redis/connection';
import type { ConnectionWatch } from './redis/connection-watch';
import type { RunExecutor } from './worker/run-executor';

/** Past shutdownTimeout: how long the runs in hand get to be handed back, then to drop the connections. */
const HAND_BACK_MS = 1000;
const DISCONNECT_MS = 500;

export interface ShutdownParts {
  queue?: RunQueue;
  executor?: RunExecutor;
  clients: readonly RedisClient[];
  watch: ConnectionWatch;
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
  deps.watch.close();
  // The store only borrows its client: every client is closed once, here (a second QUIT on a
  // closed ioredis client makes it reconnect, which held the process open for two seconds).
  // QUIT lets a healthy Redis answer what is in flight; a silent one is not waited for.
  await Promise.all(
    deps.clients.map(async (client) => {
      await settlesWithin(client.quit().catch(() => undefined), closeBy - Date.now());
      if (client.status !== 'end') client.disconnect();
    }),
  );
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
