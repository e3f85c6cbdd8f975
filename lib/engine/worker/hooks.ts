import type { EngineLogger } from '../flow-definition';
import { hookContext, type HookName } from './hook-context';

/**
 * Calls a flow's hooks of one kind, in order, each with a read-only context.
 * Hooks are the user's code: their errors are logged, never allowed to change
 * the run's outcome.
 */
export async function runHooks<A>(
  logger: EngineLogger,
  hook: HookName,
  fns: Array<(ctx: any, arg: A) => unknown> | undefined,
  run: { runId: string; flowId: string; input: unknown },
  arg: A,
): Promise<void> {
  if (!fns?.length) return;
  const ctx = hookContext(hook, run);
  for (const fn of fns) {
    try {
      await fn(ctx, arg);
    } catch (err) {
      logger.error(`${hook} hook of flow "${run.flowId}" threw (run "${run.runId}"): ${(err as Error)?.message}`, (err as Error)?.stack);
    }
  }
}
