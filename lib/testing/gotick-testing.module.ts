import { Module, type DynamicModule } from '@nestjs/common';
import type { GoTickEngine } from '../engine/engine';
import { GOTICK_ENGINE } from '../nest/gotick.constants';
import { GoTickModule } from '../nest/gotick.module';
import type { GoTickHttpOptions } from '../nest/gotick.options';
import { testEngineParts, type GoTickTestOptions } from './create-test-engine';
import { GoTickTestHarness } from './harness';

/** Options of GoTickTestingModule.forRoot: the engine's, minus Redis, plus where the virtual clock starts. @public */
export type GoTickTestingModuleOptions = GoTickTestOptions & {
  /** Mount the REST routes too (as GoTickModule's `http`), to test them over the in-memory backend. */
  http?: GoTickHttpOptions;
};

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
    const { backend, engineOptions } = testEngineParts(rest);
    const base = GoTickModule.forRoot({ ...engineOptions, ...(http ? { http } : {}) });
    return {
      ...base,
      providers: [
        ...(base.providers ?? []),
        { provide: GoTickTestHarness, inject: [GOTICK_ENGINE], useFactory: (engine: GoTickEngine) => new GoTickTestHarness(engine, backend) },
      ],
      exports: [...(base.exports ?? []), GoTickTestHarness],
    };
  }
}
