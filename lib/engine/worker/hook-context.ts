import { StepInHookError } from '../../common/errors';
import type { FlowHookContext } from '../../common/types';

/** The names hooks are declared with, for error messages. */
export type HookName = 'OnFlowSuccess' | 'OnFlowFail' | 'OnFlowError' | 'OnFlowCancel';

const STEP_METHODS = ['task', 'memo', 'array', 'async', 'asyncArray', 'wait', 'useStatus', 'sleep', 'sleepUntil', 'waitForSignal', 'child', 'startChild'];

/**
 * The read-only run a hook receives. A hook runs outside the execution (after
 * its lease is gone, or between attempts), where a step could be neither
 * recorded nor replayed; calling one used to run the side effect and then
 * hang forever. The step methods are kept, as throwing stubs, so a hook
 * written against FlowContext fails with a message instead of "not a function".
 */
export function hookContext<TInput>(hook: HookName, run: { runId: string; flowId: string; input: TInput }): FlowHookContext<TInput> {
  const ctx: Record<string, unknown> = { input: run.input, runId: run.runId, flowId: run.flowId };
  for (const method of STEP_METHODS) {
    ctx[method] = () => {
      throw new StepInHookError(method, hook, run.flowId);
    };
  }
  return Object.freeze(ctx) as unknown as FlowHookContext<TInput>;
}
