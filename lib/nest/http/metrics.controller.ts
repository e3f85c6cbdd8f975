import { Controller, Get, Inject, NotFoundException, Res, UseGuards, type Type } from '@nestjs/common';
import type { GoTickEngine } from '../../engine';
import { GOTICK_ENGINE } from '../gotick.constants';
import { GoTickAuthGuard } from './gotick-auth.guard';

/** The part of a response this route touches: `header` exists on Express's response and Fastify's reply alike. */
interface HeaderSink {
  header(name: string, value: string): unknown;
}

/**
 * `GET /<path>/metrics`: the metrics registry GoTick's metrics are in, in
 * Prometheus text format, behind the same auth as the other routes. With an
 * app registry it shows the app's metrics too, as the app's own /metrics would.
 */
@UseGuards(GoTickAuthGuard)
export class GoTickMetricsController {
  constructor(@Inject(GOTICK_ENGINE) private readonly engine: GoTickEngine) {}

  @Get('metrics')
  async metrics(@Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    const registry = this.engine.metricsRegistry;
    if (!registry) {
      throw new NotFoundException('GoTick metrics are off: set metrics: true (or { registry }) in GoTickModule.forRoot to serve them here.');
    }
    const text = await registry.metrics();
    response.header('Content-Type', registry.contentType);
    return text;
  }
}

/** The metrics route mounted at `path`, beside the REST routes. */
export function createMetricsController(path: string): Type<GoTickMetricsController> {
  class MountedMetricsController extends GoTickMetricsController {}
  Controller(path)(MountedMetricsController);
  return MountedMetricsController;
}
