import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FlowMetadata } from './decorators/flow.decorator';
import type { FlowHookMetadata } from './decorators/flow-hooks.decorator';
import { FLOW_HOOKS_METADATA, FLOW_METADATA } from './gotick.constants';

/** Every read of our decorator metadata goes through here. */
@Injectable()
export class FlowMetadataAccessor {
  constructor(private readonly reflector: Reflector) {}

  flow(method: Function): FlowMetadata | undefined {
    return this.reflector.get<FlowMetadata | undefined>(FLOW_METADATA, method);
  }

  hooks(method: Function): FlowHookMetadata[] {
    return this.reflector.get<FlowHookMetadata[] | undefined>(FLOW_HOOKS_METADATA, method) ?? [];
  }
}
