import type { ResolvedOptions } from '../options';
import type { GoTickInterceptor } from '../../common/interceptors';
import { buildChains, type RunChain, type StepChain } from './interceptor-chain';
import { GoTickMetrics } from './metrics';
import { createTracing, type TriggerTracer } from './tracing';

/** What the engine wires in for tracing and metrics; every field undefined when neither is on. */
export interface Observers {
  traceTrigger?: TriggerTracer;
  metrics?: GoTickMetrics;
  /** The engine's own interceptors, outermost first. */
  own: GoTickInterceptor[];
}

/** Tracing and metrics, built at construction so a missing optional peer fails there, naming the option. */
export function buildObservers(settings: Pick<ResolvedOptions, 'tracing' | 'metrics'>): Observers {
  const tracing = settings.tracing ? createTracing() : undefined;
  const metrics = settings.metrics ? new GoTickMetrics(settings.metrics) : undefined;
  return { traceTrigger: tracing?.traceTrigger, metrics, own: [...(tracing ? [tracing.interceptor] : []), ...(metrics ? [metrics.interceptor] : [])] };
}

/**
 * The chains an engine runs, composed once at start. Tracing is outermost, so
 * its spans cover the metrics and the user's interceptors (whose logs then
 * carry the trace); the user's come last, in the order given.
 */
export function composeChains(observers: Observers, interceptors: readonly GoTickInterceptor[]): { interceptRun?: RunChain; interceptStep?: StepChain } {
  const chains = buildChains([...observers.own, ...interceptors]);
  return { interceptRun: chains.run, interceptStep: chains.step };
}
