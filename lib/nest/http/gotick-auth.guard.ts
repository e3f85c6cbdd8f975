import { CanActivate, ExecutionContext, Inject, Injectable, UnauthorizedException, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { GOTICK_HTTP_OPTIONS, GOTICK_MODULE_OPTIONS } from '../gotick.constants';
import type { GoTickHttpOptions, GoTickModuleOptions } from '../gotick.options';

// Hashing both sides first gives equal-length buffers, so the comparison
// takes the same time whatever the token's length or first wrong byte.
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Protects the REST routes: the user's guard if given, else the bearer token,
 * else (only with `public: true`) nobody is stopped.
 */
@Injectable()
export class GoTickAuthGuard implements CanActivate {
  private readonly auth: GoTickHttpOptions;
  private guard?: CanActivate;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(GOTICK_MODULE_OPTIONS) options: GoTickModuleOptions,
    @Inject(GOTICK_HTTP_OPTIONS) http: GoTickHttpOptions | null,
  ) {
    this.auth = { ...http, ...options.http };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.auth.guard) return (await this.userGuard(this.auth.guard).canActivate(context)) as boolean;
    if (this.auth.token) {
      const header: unknown = context.switchToHttp().getRequest().headers?.authorization;
      const match = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header) : null;
      if (!match || !sameSecret(match[1], this.auth.token)) {
        throw new UnauthorizedException('Missing or wrong bearer token (Authorization: Bearer <token>).');
      }
      return true;
    }
    return this.auth.public === true;
  }

  private userGuard(guard: Type<CanActivate> | CanActivate): CanActivate {
    if (typeof guard !== 'function') return guard;
    if (!this.guard) {
      try {
        this.guard = this.moduleRef.get(guard, { strict: false });
      } catch {
        throw new Error(`GoTick http.guard ${guard.name} is not a provider: add it to the providers of a module.`);
      }
    }
    return this.guard!;
  }
}
