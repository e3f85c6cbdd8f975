import { SetMetadata } from '@nestjs/common';
import { FLOW_METADATA } from '../gotick.constants';
import type { FlowContext, FlowOptions, FlowRef } from '../../engine';
import { flowIdOf } from '../../common/flow-ref';

export interface FlowMetadata {
  id: string;
  options?: FlowOptions;
}

/** A method decorator that only fits a flow method taking `FlowContext<TInput>` and returning TOutput. */
export type TypedFlowDecorator<TInput, TOutput> = <M extends (ctx: FlowContext<TInput>) => TOutput | Promise<TOutput>>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;

/**
 * Marks a provider method as a durable flow. The method receives a
 * FlowContext and runs with the provider's own `this`, so injected services work.
 * Given a FlowRef (see defineFlow), the method's input and output types must match it.
 * @public
 */
export function Flow<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, options?: FlowOptions<TInput>): TypedFlowDecorator<TInput, TOutput>;
export function Flow(id: string, options?: FlowOptions): MethodDecorator;
export function Flow(flow: string | FlowRef, options?: FlowOptions): MethodDecorator {
  return SetMetadata<string, FlowMetadata>(FLOW_METADATA, { id: flowIdOf(flow), options });
}
