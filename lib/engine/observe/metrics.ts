import type * as Prom from 'prom-client';
import { GoTickConfigError } from '../../common/errors';
import type { ExecutionEnd, GoTickInterceptor, RunInterceptInfo, StepInterceptInfo } from '../../common/interceptors';
import { QUEUE_JOB_STATES, type QueueJobState } from '../ports';
import { optionalPeer } from './optional-peer';

/**
 * A prom-client Registry, as far as GoTick uses one (typed structurally, so
 * an app without prom-client still compiles against GoTick's types).
 * @public
 */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** The `metrics` option: `true` for prom-client's global registry, or where to register and under which name prefix. @public */
export type MetricsOption = boolean | {
  /** Default: prom-client's global `register` (what @willsoto/nestjs-prometheus and most apps expose). */
  registry?: MetricsRegistry;
  /** Prefix of every metric name. Default 'gotick_'. */
  prefix?: string;
};

type QueueCounts = () => Promise<Record<QueueJobState, number>>;

const FINAL = new Set<ExecutionEnd['status']>(['completed', 'failed', 'cancelled']);

/**
 * One set of GoTick metrics per registry and prefix. Engines of one process
 * (tests, or an app with two GoTick modules) share it: prom-client refuses a
 * second metric of the same name, and a scrape should show one series anyway.
 */
class MetricSet {
  readonly runsStarted: Prom.Counter<'flow'>;
  readonly runsFinished: Prom.Counter<'flow' | 'status'>;
  readonly runDuration: Prom.Histogram<'flow' | 'status'>;
  readonly stepAttempts: Prom.Counter<'flow' | 'kind' | 'outcome'>;
  readonly stepDuration: Prom.Histogram<'flow' | 'kind'>;
  /** Each engine's queue, read at scrape time (no polling in between). */
  readonly queues = new Set<QueueCounts>();

  constructor(prom: typeof Prom, registry: MetricsRegistry, prefix: string) {
    const registers = [registry as unknown as Prom.Registry];
    for (const name of ['runs_started_total', 'runs_finished_total', 'run_duration_seconds', 'step_attempts_total', 'step_duration_seconds', 'queue_jobs']) {
      if (registry.getSingleMetric(prefix + name)) {
        throw new GoTickConfigError(
          `The metric "${prefix}${name}" is already registered by something other than GoTick: set metrics.prefix to another name prefix.`,
        );
      }
    }
    this.runsStarted = new prom.Counter({ name: `${prefix}runs_started_total`, help: 'Runs whose first execution began.', labelNames: ['flow'], registers });
    this.runsFinished = new prom.Counter({
      name: `${prefix}runs_finished_total`,
      help: 'Runs ended by an execution, by status (completed, failed, cancelled).',
      labelNames: ['flow', 'status'],
      registers,
    });
    this.runDuration = new prom.Histogram({
      name: `${prefix}run_duration_seconds`,
      help: 'From a run\'s first start to its end, sleeps and waits included.',
      labelNames: ['flow', 'status'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600, 21600, 86400, 604800],
      registers,
    });
    this.stepAttempts = new prom.Counter({
      name: `${prefix}step_attempts_total`,
      help: 'Step attempts run (replays not counted), by outcome (completed, failed).',
      labelNames: ['flow', 'kind', 'outcome'],
      registers,
    });
    this.stepDuration = new prom.Histogram({
      name: `${prefix}step_duration_seconds`,
      help: 'Time in a step attempt\'s body.',
      labelNames: ['flow', 'kind'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    const queues = this.queues;
    new prom.Gauge({
      name: `${prefix}queue_jobs`,
      help: 'Jobs in the run queue by state, read from Redis at scrape time.',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        const read = await Promise.all([...queues].map((counts) => counts().catch(() => undefined)));
        const answered = read.filter((counts) => counts !== undefined);
        // Redis away: no sample rather than a false zero, and the rest of the scrape still answers.
        if (!answered.length) return;
        for (const state of QUEUE_JOB_STATES) this.set({ state }, answered.reduce((sum, counts) => sum + counts![state], 0));
      },
    });
  }
}

const sets = new WeakMap<object, Map<string, MetricSet>>();

/** The engine's metrics: the interceptor that counts, and the queue it reports at scrape time. */
export class GoTickMetrics {
  readonly registry: MetricsRegistry;
  readonly interceptor: GoTickInterceptor;
  private readonly set: MetricSet;

  constructor(option: Exclude<MetricsOption, false>) {
    const prom = optionalPeer<typeof Prom>('prom-client', 'metrics');
    const { registry = prom.register as unknown as MetricsRegistry, prefix = 'gotick_' } = option === true ? {} : option;
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
      throw new GoTickConfigError(`Invalid metrics.prefix ${JSON.stringify(prefix)}: letters, digits, _ and : (not starting with a digit), like 'gotick_'.`);
    }
    if (!registry || typeof registry.getSingleMetric !== 'function' || typeof registry.metrics !== 'function') {
      throw new GoTickConfigError('Invalid metrics.registry: pass a prom-client Registry (new Registry(), or prom-client\'s register).');
    }
    this.registry = registry;
    let byPrefix = sets.get(registry);
    if (!byPrefix) sets.set(registry, (byPrefix = new Map()));
    let set = byPrefix.get(prefix);
    if (!set) byPrefix.set(prefix, (set = new MetricSet(prom, registry, prefix)));
    this.set = set;
    this.interceptor = { interceptRun: (info, next) => this.run(info, next), interceptStep: (info, next) => this.step(info, next) };
  }

  /**
   * A queued or sleeping run cancelled by cancel(): it ends without an
   * execution, so only the finished count sees it (it has no duration to observe).
   */
  readonly parkedRunCancelled = (flowId: string): void => {
    this.set.runsFinished.inc({ flow: flowId, status: 'cancelled' });
  };

  /** Reports `counts` as gotick_queue_jobs until the returned function is called (at close). */
  watchQueue(counts: QueueCounts): () => void {
    this.set.queues.add(counts);
    return () => void this.set.queues.delete(counts);
  }

  private async run(info: RunInterceptInfo, next: () => Promise<ExecutionEnd>): Promise<ExecutionEnd> {
    if (info.execution === 1 && info.attempt === 1) this.set.runsStarted.inc({ flow: info.flowId });
    const end = await next();
    if (FINAL.has(end.status)) {
      const labels = { flow: info.flowId, status: end.status };
      this.set.runsFinished.inc(labels);
      this.set.runDuration.observe(labels, Math.max(0, Date.now() - info.startedAt) / 1000);
    }
    return end;
  }

  private async step(info: StepInterceptInfo, next: () => Promise<unknown>): Promise<unknown> {
    const started = performance.now();
    let outcome = 'failed';
    try {
      const value = await next();
      outcome = 'completed';
      return value;
    } finally {
      this.set.stepAttempts.inc({ flow: info.flowId, kind: info.kind, outcome });
      this.set.stepDuration.observe({ flow: info.flowId, kind: info.kind }, (performance.now() - started) / 1000);
    }
  }
}
