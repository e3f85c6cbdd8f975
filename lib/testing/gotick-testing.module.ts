import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { GoTickEngine } from '../engine/engine';
import { GOTICK_ENGINE, GOTICK_MODULE_OPTIONS } from '../nest/gotick.constants';
import { GoTickModule } from '../nest/gotick.module';
import { withoutQueueRegistration } from '../nest/bullmq/gotick-queues';
import type { GoTickHttpOptions, GoTickModuleOptions } from '../nest/gotick.options';
import { testEngineParts, type GoTickTestOptions } from './create-test-engine';
import { GoTickTestHarness } from './harness';
import type { MemoryBackend } from './memory-backend';

/** Options of GoTickTestingModule.forRoot: the engine's, minus Redis, plus where the virtual clock starts. @public */
export type GoTickTestingModuleOptions = GoTickTestOptions & {
  /** Mount the REST routes too (as GoTickModule's `http`), to test them over the in-memory backend. */
  http?: GoTickHttpOptions;
};

const isOptionsProvider = (provider: Provider) => typeof provider === 'object' && 'provide' in provider && provider.provide === GOTICK_MODULE_OPTIONS;

/**
 * GoTickModule on the in-memory backend, for `Test.createTestingModule`: the
 * app's flows and their providers are discovered as in production, TickService
 * is there as usual, and GoTickTestHarness drives the virtual clock.
 * @example
 * const moduleRef = await Test.createTestingModule({
 *   imports: [GoTickTestingModule.forRoot()],
 *   providers: [OrderFlows, OrderService],
 * }).compile();
 * await moduleRef.init();
 * const gotick = moduleRef.get(GoTickTestHarness);
 * @public
 */
@Module({})
export class GoTickTestingModule {
  static forRoot(options: GoTickTestingModuleOptions = {}): DynamicModule {
    const { http, ...rest } = options;
    // The memory backend has no BullMQ queues to register with @nestjs/bullmq.
    const base = withoutQueueRegistration(GoTickModule.forRoot(http ? { http } : {}));
    return {
      ...base,
      providers: [
        ...(base.providers ?? []).filter((provider) => !isOptionsProvider(provider)),
        // A fresh backend (store, queue, clock) per compiled module, even when one forRoot() result is reused.
        { provide: GOTICK_MODULE_OPTIONS, useFactory: (): GoTickModuleOptions => ({ ...testEngineParts(rest).engineOptions, ...(http ? { http } : {}) }) },
        {
          provide: GoTickTestHarness,
          inject: [GOTICK_ENGINE, GOTICK_MODULE_OPTIONS],
          useFactory: (engine: GoTickEngine, resolved: GoTickModuleOptions) => new GoTickTestHarness(engine, resolved.backend as MemoryBackend),
        },
      ],
      exports: [...(base.exports ?? []), GoTickTestHarness],
    };
  }
}
