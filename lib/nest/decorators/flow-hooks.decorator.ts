import { flowIdOf, type FlowRef } from '../../common/flow-ref';
import { FLOW_HOOKS_METADATA } from '../gotick.constants';

export type FlowHookKind = 'success' | 'fail' | 'error' | 'cancel';

export interface FlowHookMetadata {
  kind: FlowHookKind;
  flowId: string;
}

// A list, not a single value: one method may serve several flows or hook kinds.
// The flow is named like @Flow names it: by id or by a defineFlow reference.
const hook =
  (kind: FlowHookKind) =>
  (flow: string | FlowRef<any, any>): MethodDecorator =>
  (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const hooks: FlowHookMetadata[] = Reflect.getMetadata(FLOW_HOOKS_METADATA, method) ?? [];
    Reflect.defineMetadata(FLOW_HOOKS_METADATA, [...hooks, { kind, flowId: flowIdOf(flow) }], method);
    return descriptor;
  };

// Every hook gets a read-only context (FlowHookContext: input, runId, flowId): a step call in a hook throws StepInHookError.

/** Called once when a run of the flow completes: `(ctx, output)`. @public */
export const OnFlowSuccess = hook('success');
/** Called once when a run fails for good (retries spent, non-retriable error): `(ctx, failure)`. @public */
export const OnFlowFail = hook('fail');
/** Called after every failed step attempt of a run: `(ctx, failure)`. @public */
export const OnFlowError = hook('error');
/**
 * Called once when a run of the flow ends cancelled: `(ctx, { reason })`. For a
 * running run it runs on the node that executed it; for a queued or sleeping
 * run, on the node whose `cancel()` cancelled it.
 * @public
 */
export const OnFlowCancel = hook('cancel');
