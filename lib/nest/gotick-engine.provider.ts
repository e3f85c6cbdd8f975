import { Logger, type Provider } from '@nestjs/common';
import { GoTickEngine, type EngineLogger } from '../engine';
import { GOTICK_ENGINE, GOTICK_MODULE_OPTIONS } from './gotick.constants';
import type { GoTickModuleOptions } from './gotick.options';

function nestLogger(): EngineLogger {
  const logger = new Logger('GoTick');
  return {
    debug: (message) => logger.debug(message),
    log: (message) => logger.log(message),
    warn: (message) => logger.warn(message),
    error: (message, stack) => logger.error(message, stack),
  };
}

/** The engine, built from the module options; the only place the Nest layer creates it. */
export const goTickEngineProvider: Provider = {
  provide: GOTICK_ENGINE,
  inject: [GOTICK_MODULE_OPTIONS],
  // Interceptors are added at bootstrap (GoTickLifecycle): injectable ones exist only once every module is instantiated.
  useFactory: ({ http: _http, interceptors: _interceptors, ...options }: GoTickModuleOptions) => new GoTickEngine({ logger: nestLogger(), ...options }),
};
