import { Controller, Get, Inject, NotFoundException, Res, UseGuards, type Type } from '@nestjs/common';
import type { GoTickEngine } from '../../engine';
import { GOTICK_ENGINE } from '../gotick.constants';
import { GoTickAuthGuard } from './gotick-auth.guard';
import { GoTickErrorBody } from './openapi/results.schema';
import { DocBearer, DocOperation, DocProduces, DocResponse, DocTags } from './openapi/swagger';

/** The part of a response this route touches: `header` exists on Express's response and Fastify's reply alike. */
interface HeaderSink {
  header(name: string, value: string): unknown;
}

/**
 * `GET /<path>/metrics`: the metrics registry GoTick's metrics are in, in
 * Prometheus text format, behind the same auth as the other routes. With an
 * app registry it shows the app's metrics too, as the app's own /metrics would.
 */
@DocTags('gotick')
@DocBearer()
@UseGuards(GoTickAuthGuard)
export class GoTickMetricsController {
  constructor(@Inject(GOTICK_ENGINE) private readonly engine: GoTickEngine) {}

  @Get('metrics')
  @DocOperation({ operationId: 'gotickMetrics', summary: 'Metrics in Prometheus text format' })
  @DocProduces('text/plain')
  @DocResponse({ status: 200, description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } })
  @DocResponse({ status: 401, type: GoTickErrorBody, description: 'Missing or wrong bearer token (or the guard said no).' })
  @DocResponse({ status: 404, type: GoTickErrorBody, description: 'Metrics are off (option metrics).' })
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
