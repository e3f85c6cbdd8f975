import type { ResolvedOptions } from '../options';
import { buildChains, type RunChain, type StepChain } from './interceptor-chain';
import { GoTickMetrics } from './metrics';
import { createTracing, type TriggerTracer } from './tracing';

/** What the engine wires in for tracing, metrics and the user's interceptors; every field undefined when none is on. */
export interface Observers {
  interceptRun?: RunChain;
  interceptStep?: StepChain;
  traceTrigger?: TriggerTracer;
  metrics?: GoTickMetrics;
}

/**
 * Builds the chains once per engine. Tracing is outermost, so its spans
 * cover the metrics and the user's interceptors (whose logs then carry the
 * trace); the user's come last, in the order given. Optional peers load here,
 * only for the option that needs them.
 */
export function buildObservers(settings: Pick<ResolvedOptions, 'interceptors' | 'tracing' | 'metrics'>): Observers {
  const tracing = settings.tracing ? createTracing() : undefined;
  const metrics = settings.metrics ? new GoTickMetrics(settings.metrics) : undefined;
  const chains = buildChains([...(tracing ? [tracing.interceptor] : []), ...(metrics ? [metrics.interceptor] : []), ...settings.interceptors]);
  return { interceptRun: chains.run, interceptStep: chains.step, traceTrigger: tracing?.traceTrigger, metrics };
}
