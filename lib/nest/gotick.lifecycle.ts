import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { GoTickConfigError, type GoTickEngine } from '../engine';
import { resolveInterceptors } from './interceptors.resolver';
import { GOTICK_ENGINE, GOTICK_HTTP_OPTIONS, GOTICK_MODULE_OPTIONS } from './gotick.constants';
import type { GoTickHttpOptions, GoTickModuleOptions } from './gotick.options';

/**
 * Starts the engine once every flow is registered (explorers run in
 * onModuleInit), and stops it first on shutdown, before the app's own
 * providers that flows use are torn down.
 */
@Injectable()
export class GoTickLifecycle implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    @Inject(GOTICK_ENGINE) private readonly engine: GoTickEngine,
    @Inject(GOTICK_MODULE_OPTIONS) private readonly options: GoTickModuleOptions,
    @Inject(GOTICK_HTTP_OPTIONS) private readonly http: GoTickHttpOptions | null,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    if (!this.http) return;
    const auth = { ...this.http, ...this.options.http };
    if (!auth.token && !auth.guard && !auth.public) {
      void this.engine.close();
      throw new GoTickConfigError(
        'GoTick REST routes have no protection: set http.token (bearer token) or http.guard, ' +
          'or set http.public: true to expose them without auth on purpose.',
      );
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    const interceptors = await resolveInterceptors(this.options.interceptors, this.moduleRef);
    if (interceptors) this.engine.intercept(...interceptors);
    await this.engine.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.engine.close();
  }
}
