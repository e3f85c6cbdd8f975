import type { FlowContext, FlowDefinition } from '../../lib/engine';

/**
 * A flow of `steps` sequential memo steps that each return a small value:
 * the engine's per-step cost with no user work in the way.
 */
export function stepsFlow(id: string, steps: number, onDone?: (runId: string) => void): FlowDefinition {
  return {
    id,
    handler: async (ctx: FlowContext) => {
      for (let i = 0; i < steps; i++) await ctx.memo(`s${i}`, () => i);
      return steps;
    },
    hooks: onDone ? { onSuccess: [(ctx) => onDone(ctx.runId)] } : undefined,
  };
}
