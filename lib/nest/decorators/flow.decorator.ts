import { SetMetadata } from '@nestjs/common';
import { FLOW_METADATA } from '../gotick.constants';
import type { FlowOptions } from '../../engine';

export interface FlowMetadata {
  id: string;
  options?: FlowOptions;
}

/**
 * Marks a provider method as a durable flow. The method receives a
 * FlowContext and runs with the provider's own `this`, so injected services work.
 * @public
 */
export const Flow = (id: string, options?: FlowOptions): MethodDecorator =>
  SetMetadata<string, FlowMetadata>(FLOW_METADATA, { id, options });
