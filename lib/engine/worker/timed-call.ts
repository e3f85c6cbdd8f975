import { StepTimeoutError } from '../../common/errors';
import { setLongTimeout, type LongTimer } from '../../common/timers';
import type { TaskContext } from '../../common/types';

/**
 * Calls a step body with its own abort signal, tied to the execution's, and
 * aborts it (StepTimeoutError) after `timeoutMs`. Only for steps with a
 * timeout: the others get the execution's signal, with no controller or
 * listener per step on the hot path.
 */
export async function callWithTimeout<T>(
  fn: (task: TaskContext) => T | Promise<T>,
  task: Omit<TaskContext, 'signal'>,
  parent: AbortSignal,
  timeoutMs: number,
): Promise<T> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onAbort);
  let timer: LongTimer | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(() => fn({ ...task, signal: controller.signal })),
      new Promise<never>((_, reject) => {
        timer = setLongTimeout(() => {
          const error = new StepTimeoutError(task.key, timeoutMs);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      }),
    ]);
  } finally {
    timer?.cancel();
    parent.removeEventListener('abort', onAbort);
  }
}
