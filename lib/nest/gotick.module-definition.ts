import { ConfigurableModuleBuilder, type DynamicModule } from '@nestjs/common';
import { GOTICK_HTTP_OPTIONS, GOTICK_MODULE_OPTIONS } from './gotick.constants';
import type { GoTickHttpOptions, GoTickModuleOptions } from './gotick.options';
import { createTickController } from './http/tick.controller';
import { goTickQueueRegistration, type GoTickQueueRegistration } from './bullmq/gotick-queues';
import { createMetricsController } from './http/metrics.controller';
import { createDashboardController } from './dashboard/dashboard.controller';

/** Static options of both forRoot and forRootAsync (decided before any factory runs). @public */
export interface GoTickModuleExtras {
  /** Make TickService injectable everywhere without importing the module again. Default true. */
  isGlobal?: boolean;
  /** Mounts the REST routes; see GoTickModuleOptions.http. */
  http?: GoTickHttpOptions;
  /**
   * With forRootAsync and `partitions` > 1: the same number, next to useFactory, so the module
   * registers one @nestjs/bullmq queue per partition (names are known before the factory runs).
   * forRoot reads it from its options. Not in the defaults below, so forRoot's options keep it.
   */
  partitions?: number;
}

export const {
  ConfigurableModuleClass: GoTickConfigurableModule,
  OPTIONS_TYPE: GOTICK_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: GOTICK_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<GoTickModuleOptions>({ optionsInjectionToken: GOTICK_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<GoTickModuleExtras>({ isGlobal: true, http: undefined }, (definition, extras) => withQueues({
    ...definition,
    global: extras.isGlobal,
    // Routes only exist when asked for; their path is known statically, so the controller is made per module.
    controllers: extras.http
      ? [
          createTickController(extras.http.path ?? 'gotick'),
          createMetricsController(extras.http.path ?? 'gotick'),
          ...(extras.http.ui === false ? [] : [createDashboardController(extras.http.path ?? 'gotick')]),
        ]
      : [],
    providers: [...(definition.providers ?? []), { provide: GOTICK_HTTP_OPTIONS, useValue: extras.http ?? null }],
  }, goTickQueueRegistration(extras.partitions ?? 1, extras.isGlobal !== false)))
  .build();

/** Adds the @nestjs/bullmq registration of GoTick's queues (nothing when the app has no @nestjs/bullmq). */
function withQueues(definition: DynamicModule, queues: GoTickQueueRegistration): DynamicModule {
  return {
    ...definition,
    imports: [...(definition.imports ?? []), ...queues.imports],
    providers: [...(definition.providers ?? []), ...queues.providers],
    exports: [...(definition.exports ?? []), ...queues.exports],
  };
}
