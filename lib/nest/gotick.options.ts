import type { CanActivate, Type } from '@nestjs/common';
import type { GoTickEngineOptions } from '../engine';
import type { GoTickInterceptorRef } from './interceptors.resolver';

/** The REST routes: where they mount and who may call them. @public */
export interface GoTickHttpOptions {
  /** Route prefix. Default 'gotick'. */
  path?: string;
  /** Bearer token callers must send (`Authorization: Bearer <token>`). */
  token?: string;
  /** A Nest guard (class or instance) that decides instead of the token. */
  guard?: Type<CanActivate> | CanActivate;
  /** Mount with no auth at all. Without token, guard or this, bootstrap refuses to mount the routes. */
  public?: boolean;
  /**
   * The dashboard at `<path>/ui/` (default on): a page that shows flows, runs
   * and steps and acts on them through these same routes, with the same
   * token or guard. `false` leaves it out.
   */
  ui?: boolean;
}

/** Options of GoTickModule.forRoot / the factory of forRootAsync. @public */
export interface GoTickModuleOptions extends Omit<GoTickEngineOptions, 'interceptors'> {
  /**
   * Wrap every execution and step attempt (see GoTickInterceptor), in order:
   * instances, or injectable classes (taken from the app's providers, or built
   * by the module's injector with their dependencies).
   */
  interceptors?: GoTickInterceptorRef[];
  /**
   * REST routes. With forRoot, `http` present mounts them. With forRootAsync,
   * pass `http` next to `useFactory` to mount them; the factory may still
   * supply the token or guard.
   */
  http?: GoTickHttpOptions;
}
