import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { GoTickHealthIndicator } from 'nestjs-gotick';

/** GET /health: 200 while Redis answers and the worker runs, 503 with the reason otherwise. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly gotick: GoTickHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.gotick.isHealthy('gotick')]);
  }
}
