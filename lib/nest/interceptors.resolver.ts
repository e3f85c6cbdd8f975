import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { GoTickConfigError, type GoTickInterceptor } from '../engine';

/** What `interceptors` of GoTickModule takes: instances, or injectable classes the module's injector builds. @public */
export type GoTickInterceptorRef = GoTickInterceptor | Type<GoTickInterceptor>;

/**
 * Instances for the engine, resolved at bootstrap (before, an app provider may
 * not be constructed yet). A class that is a provider somewhere in the app
 * is taken from there (one instance, shared with the app); any other class is
 * built by the injector with its constructor dependencies, as Nest does for
 * an `@UseInterceptors(SomeClass)`.
 */
export async function resolveInterceptors(refs: readonly GoTickInterceptorRef[] | undefined, moduleRef: ModuleRef): Promise<GoTickInterceptor[] | undefined> {
  if (refs === undefined) return undefined;
  if (!Array.isArray(refs)) throw new GoTickConfigError(`Invalid interceptors ${typeof refs}: an array of interceptor instances or injectable classes.`);
  return Promise.all(
    refs.map(async (ref) => {
      if (typeof ref !== 'function') return ref;
      try {
        return moduleRef.get(ref, { strict: false });
      } catch {
        return moduleRef.create(ref);
      }
    }),
  );
}
