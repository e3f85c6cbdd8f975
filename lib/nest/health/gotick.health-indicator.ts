import { Inject, Injectable } from '@nestjs/common';
import type { Duration, GoTickEngine } from '../../engine';
import { GOTICK_ENGINE } from '../gotick.constants';

/**
 * What `isHealthy` reports under its key. The shape is @nestjs/terminus'
 * HealthIndicatorResult detail, so Terminus takes it as it is: `down` makes
 * HealthCheckService answer 503.
 * @public
 */
export interface GoTickHealthDetail {
  status: 'up' | 'down';
  /** Whether Redis answered a PING. */
  redis: 'up' | 'down';
  /** Round trip of that PING, in milliseconds (when it answered). */
  latencyMs?: number;
  /** `running`, `off` (trigger-only node), `starting` or `stopped`. */
  worker: 'starting' | 'running' | 'off' | 'stopped';
  /** Runs this node executes at once (when the worker is on). */
  concurrency?: number;
  /** Why it is down. */
  message?: string;
}

/** Options of `GoTickHealthIndicator.isHealthy`. @public */
export interface GoTickHealthOptions {
  /** How long the Redis PING may take before the check says down. Default '1s'. */
  timeout?: Duration;
}

/**
 * A health indicator for @nestjs/terminus, without importing it (Terminus
 * stays optional): `() => this.gotick.isHealthy('gotick')` in a
 * `HealthCheckService.check([...])` list. Up when this node has started and
 * Redis answers a PING in time; down, with the reason in `message`, otherwise.
 * A trigger-only node (`worker: false`) is up with `worker: 'off'`.
 * @public
 */
@Injectable()
export class GoTickHealthIndicator {
  constructor(@Inject(GOTICK_ENGINE) private readonly engine: GoTickEngine) {}

  async isHealthy<Key extends string = 'gotick'>(key: Key = 'gotick' as Key, options: GoTickHealthOptions = {}): Promise<Record<Key, GoTickHealthDetail>> {
    const health = await this.engine.health(options);
    const up = health.state === 'started' && health.redis.reachable;
    const detail: GoTickHealthDetail = {
      status: up ? 'up' : 'down',
      redis: health.redis.reachable ? 'up' : 'down',
      ...(health.redis.reachable ? { latencyMs: health.redis.latencyMs } : {}),
      worker: health.worker,
      ...(health.concurrency !== undefined ? { concurrency: health.concurrency } : {}),
      ...(health.redis.reachable ? {} : { message: health.redis.reason }),
    };
    return { [key]: detail } as Record<Key, GoTickHealthDetail>;
  }
}
