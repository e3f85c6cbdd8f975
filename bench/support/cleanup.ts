/**
 * Everything the bench starts (redis-server, worker processes, engines) is
 * registered here, so it is stopped on a normal end, on an error and on
 * Ctrl-C alike: a benchmark must never leave a server or a worker behind.
 */
type Task = () => Promise<void> | void;

const tasks: Task[] = [];
let running: Promise<void> | undefined;

export function onCleanup(task: Task): () => void {
  tasks.push(task);
  return () => {
    const at = tasks.indexOf(task);
    if (at >= 0) tasks.splice(at, 1);
  };
}

/** Runs every registered task once, newest first (workers before the Redis they use). */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (tasks.length) {
      const task = tasks.pop()!;
      try {
        await task();
      } catch (err) {
        console.error(`cleanup step failed: ${(err as Error).message}`);
      }
    }
  })();
  return running;
}

export function cleanupOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the bench's redis-server and workers...`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  // `npm run bench | head` closes stdout early: that must not kill the bench before it cleans up.
  process.stdout.on('error', () => undefined);
  const crash = (err: unknown) => {
    console.error(`bench crashed: ${(err as Error)?.stack ?? String(err)}`);
    void cleanupAll().finally(() => process.exit(1));
  };
  process.once('uncaughtException', crash);
  process.once('unhandledRejection', crash);
}
