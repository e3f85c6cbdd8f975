import { ConfigurableModuleBuilder } from '@nestjs/common';
import { GOTICK_HTTP_OPTIONS, GOTICK_MODULE_OPTIONS } from './gotick.constants';
import type { GoTickHttpOptions, GoTickModuleOptions } from './gotick.options';
import { createTickController } from './http/tick.controller';
import { createMetricsController } from './http/metrics.controller';
import { createDashboardController } from './dashboard/dashboard.controller';

/** Static options of both forRoot and forRootAsync (decided before any factory runs). @public */
export interface GoTickModuleExtras {
  /** Make TickService injectable everywhere without importing the module again. Default true. */
  isGlobal?: boolean;
  /** Mounts the REST routes; see GoTickModuleOptions.http. */
  http?: GoTickHttpOptions;
}

export const {
  ConfigurableModuleClass: GoTickConfigurableModule,
  OPTIONS_TYPE: GOTICK_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: GOTICK_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<GoTickModuleOptions>({ optionsInjectionToken: GOTICK_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<GoTickModuleExtras>({ isGlobal: true, http: undefined }, (definition, extras) => ({
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
  }))
  .build();
