import type { FlowContext } from '../common/flow-context';
import type { FlowFailure, FlowHookContext, FlowOptions } from '../common/types';

/** A flow as the engine knows it: an id, the method to run, and its hooks. */
export interface FlowDefinition {
  id: string;
  handler: (ctx: FlowContext<any>) => unknown;
  options?: FlowOptions;
  hooks?: FlowHooks;
}

/** Hooks get the run read-only (FlowHookContext): a step call in a hook throws StepInHookError. */
export interface FlowHooks {
  onSuccess?: Array<(ctx: FlowHookContext<any>, output: unknown) => unknown>;
  /** Once, when the run fails for good (also by its whole-run timeout). */
  onFail?: Array<(ctx: FlowHookContext<any>, failure: FlowFailure) => unknown>;
  /** After every failed step attempt. */
  onError?: Array<(ctx: FlowHookContext<any>, failure: FlowFailure) => unknown>;
  /** Once, when the run ends cancelled. */
  onCancel?: Array<(ctx: FlowHookContext<any>, cancel: { reason?: string }) => unknown>;
}

/** Where the engine reports what it cannot throw to anyone (hook errors, dropped jobs). */
export interface EngineLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
}
