import type { FlowContext } from '../common/flow-context';
import type { FlowFailure, FlowOptions } from '../common/types';

/** A flow as the engine knows it: an id, the method to run, and its hooks. */
export interface FlowDefinition {
  id: string;
  handler: (ctx: FlowContext<any>) => unknown;
  options?: FlowOptions;
  hooks?: FlowHooks;
}

export interface FlowHooks {
  onSuccess?: Array<(ctx: FlowContext<any>, output: unknown) => unknown>;
  /** Once, when the run fails for good. */
  onFail?: Array<(ctx: FlowContext<any>, failure: FlowFailure) => unknown>;
  /** After every failed step attempt. */
  onError?: Array<(ctx: FlowContext<any>, failure: FlowFailure) => unknown>;
}

/** Where the engine reports what it cannot throw to anyone (hook errors, dropped jobs). */
export interface EngineLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
}
