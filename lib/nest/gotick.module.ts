import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { FlowExplorer } from './flow.explorer';
import { FlowMetadataAccessor } from './flow-metadata.accessor';
import { goTickEngineProvider } from './gotick-engine.provider';
import { GoTickLifecycle } from './gotick.lifecycle';
import { GoTickConfigurableModule } from './gotick.module-definition';
import { GOTICK_ENGINE } from './gotick.constants';
import { TickService } from './tick.service';
import { BodyLimitResponder } from './http/body-limit';
import { GoTickHealthIndicator } from './health/gotick.health-indicator';

/**
 * Durable flows for the app: `GoTickModule.forRoot({ connection, ... })` or
 * `GoTickModule.forRootAsync({ imports, inject, useFactory })`.
 * @public
 */
@Module({
  imports: [DiscoveryModule],
  providers: [goTickEngineProvider, FlowMetadataAccessor, FlowExplorer, GoTickLifecycle, TickService, BodyLimitResponder, GoTickHealthIndicator],
  // The engine is exported for BullModule's factories (they make GoTick's queues on its connection).
  exports: [TickService, GoTickHealthIndicator, GOTICK_ENGINE],
})
export class GoTickModule extends GoTickConfigurableModule {}
