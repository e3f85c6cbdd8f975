import { toMs, type Duration } from '../common/duration';
import { MAX_TIMER_MS } from '../common/timers';
import { GoTickConfigError } from '../common/errors';
import type { Backoff } from '../common/types';
import type { EngineBackend } from './backend';
import { systemClock, type Clock } from './clock';
import type { EngineLogger } from './flow-definition';
import type { RedisConnection } from './redis/connection';
import { LOG_LEVELS, leveledLogger, type LogLevel } from './worker/run-log';
import type { GoTickInterceptor } from '../common/interceptors';
import type { MetricsOption } from './observe/metrics';

/** Options of the engine; GoTickModule.forRoot takes the same. @public */
export interface GoTickEngineOptions {
  /** Redis: a URL, ioredis options, an ioredis instance, or a Cluster. Default 127.0.0.1:6379. */
  connection?: RedisConnection;
  /**
   * How many BullMQ queues the work is spread over (default 1). On a Redis
   * Cluster each partition is its own hash slot, so more partitions spread
   * the queue load over more shards.
   */
  partitions?: number;
  /** Every key and queue lives under this prefix. Default 'gotick'. */
  prefix?: string;
  /** `false` makes a trigger-only node (GoTick's client role): it starts runs but executes none. */
  worker?: false | {
    /** Runs executed at once by this node. Default 10. */
    concurrency?: number;
    /** How long an execution's lease (and job lock) lasts without renewal; a crashed worker's run is retried after about this long. Default '30s', at least '500ms'. */
    lease?: Duration;
  };
  /** Step defaults for every flow. */
  defaults?: {
    /** Retries after the first attempt. Default 3. */
    retries?: number;
    /** Default: exponential from 1s, at most 5m. */
    backoff?: Backoff;
    /**
     * Timeout of every task, memo, array and async attempt that sets none
     * (a flow's own `defaults.timeout` comes first). Default: none, and the
     * first attempt of each flow that runs without any timeout logs a warning.
     */
    timeout?: Duration;
  };
  /** How long finished runs stay readable before Redis expires them. Default '7d'; 0 keeps them forever. */
  retention?: Duration;
  limits?: {
    /** Largest run input or step result, in bytes of JSON. Default 1 MiB. */
    maxPayloadBytes?: number;
    /** Undelivered signals one run's mailbox holds at most; past it, signal() fails with SignalMailboxFullError. Default 1000. */
    maxSignalsPerRun?: number;
  };
  /** How long start() waits for Redis before failing. Default '10s'. */
  connectTimeout?: Duration;
  /**
   * How long close() lets running steps finish. Past it, their runs are
   * handed back so another node resumes them at once (best effort, about a
   * second more) and every connection is dropped: close() returns within
   * about shutdownTimeout + 1.5 s even while Redis is down or frozen. Default '10s'.
   */
  shutdownTimeout?: Duration;
  /**
   * How long a Redis call made for a caller (trigger, getRun, listRuns,
   * waitForRun's reads) may wait for an answer before it fails with
   * RedisUnavailableError (HTTP 503). Also bounds the engine's own writes on
   * the same connection. The worker's BullMQ connections have none (their
   * blocking reads wait on purpose). Default '5s'.
   */
  commandTimeout?: Duration;
  /**
   * Where the engine logs (the Nest module passes Nest's Logger): failed runs
   * and failed step attempts at warn, routine run lines at debug.
   */
  logger?: EngineLogger;
  /** The least severe level logged: 'debug' | 'log' | 'warn' | 'error' | 'silent'. Default 'log'. */
  logLevel?: LogLevel;
  /**
   * How long a run whose flow no node has (renamed or removed in a deploy) is
   * handed back, waiting for a node that has it, before it fails with
   * UnknownFlowError (retry it once the flow is back). Default '10m'.
   */
  unknownFlowGrace?: Duration;
  /**
   * Wrap every execution and every step attempt (see GoTickInterceptor),
   * composed in order, the first outermost. Default none.
   */
  interceptors?: GoTickInterceptor[];
  /**
   * OpenTelemetry spans through @opentelemetry/api (install it; a no-op until
   * the app registers an SDK): `gotick.trigger`, `gotick.run` per execution,
   * `gotick.step` per attempt, one trace from the trigger across every node.
   * Default false.
   */
  tracing?: boolean;
  /**
   * Prometheus metrics with prom-client (install it): `true` registers them in
   * prom-client's global registry; `{ registry, prefix }` in yours. Default false.
   */
  metrics?: MetricsOption;
  /** @internal The testing kit's in-memory backend instead of Redis (use 'nestjs-gotick/testing'). */
  backend?: EngineBackend;
}

/** The options with every default applied and every value checked, once, at construction. */
export interface ResolvedOptions {
  prefix: string;
  leaseMs: number;
  concurrency: number;
  maxPayloadBytes: number;
  maxSignalsPerRun: number;
  retentionMs: number;
  partitions: number;
  connectTimeoutMs: number;
  shutdownTimeoutMs: number;
  commandTimeoutMs: number;
  retries: number;
  backoff: Backoff;
  /** defaults.timeout, checked; undefined when unset. */
  timeout?: Duration;
  logger: EngineLogger;
  unknownFlowGraceMs: number;
  interceptors: GoTickInterceptor[];
  tracing: boolean;
  metrics: Exclude<MetricsOption, true>;
  /** Where the engine reads the time and arms run timers: the system clock, or a test's virtual one. */
  clock: Clock;
}

const silentLogger: EngineLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Checks every option and fills in the defaults; a bad option fails here with GoTickConfigError naming it. */
export function resolveOptions(options: GoTickEngineOptions): ResolvedOptions {
  const prefix = options.prefix ?? 'gotick';
  if (!/^[^\s:]{1,64}$/.test(prefix) && !/^\{[^\s]{1,62}\}$/.test(prefix)) {
    throw new GoTickConfigError(`Invalid prefix ${JSON.stringify(prefix)}: 1-64 characters, no spaces or colons.`);
  }
  const connection = options.connection;
  if (connection && typeof connection === 'object' && 'keyPrefix' in connection && (connection as { keyPrefix?: string }).keyPrefix) {
    throw new GoTickConfigError('The ioredis "keyPrefix" option breaks BullMQ; use the GoTick "prefix" option instead.');
  }
  const partitions = options.partitions ?? 1;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
    throw new GoTickConfigError(`Invalid partitions ${JSON.stringify(options.partitions)}: an integer from 1 to 1024.`);
  }
  const logLevel = options.logLevel ?? 'log';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new GoTickConfigError(`Invalid logLevel ${JSON.stringify(logLevel)}: one of ${LOG_LEVELS.map((l) => `'${l}'`).join(', ')}.`);
  }
  const worker = options.worker;
  if (worker !== undefined && worker !== false && (worker === null || typeof worker !== 'object')) {
    throw new GoTickConfigError(`Invalid worker ${JSON.stringify(worker)}: an object like { concurrency: 10, lease: '30s' }, or false for a trigger-only node.`);
  }
  const defaults = options.defaults ?? {};
  return {
    prefix,
    leaseMs: durationOption(worker ? worker.lease : undefined, '30s', 'worker.lease', 500, MAX_TIMER_MS),
    concurrency: worker === false ? 1 : integerOption(worker?.concurrency, 10, 'worker.concurrency', 1, 10_000),
    maxPayloadBytes: integerOption(options.limits?.maxPayloadBytes, 1024 * 1024, 'limits.maxPayloadBytes', 1, 512 * 1024 * 1024),
    maxSignalsPerRun: integerOption(options.limits?.maxSignalsPerRun, 1000, 'limits.maxSignalsPerRun', 1, 1_000_000),
    retentionMs: durationOption(options.retention, '7d', 'retention', 0),
    partitions,
    connectTimeoutMs: durationOption(options.connectTimeout, '10s', 'connectTimeout', 1, MAX_TIMER_MS),
    shutdownTimeoutMs: durationOption(options.shutdownTimeout, '10s', 'shutdownTimeout', 0, MAX_TIMER_MS),
    // At least 1 ms: ioredis takes 0 as "no timeout", the unbounded wait this option exists to prevent.
    commandTimeoutMs: durationOption(options.commandTimeout, '5s', 'commandTimeout', 1, MAX_TIMER_MS),
    retries: integerOption(defaults.retries, 3, 'defaults.retries', 0, 1_000_000),
    backoff: backoffOption(defaults.backoff, 'defaults.backoff') ?? { type: 'exponential', delay: '1s', maxDelay: '5m' },
    timeout: checkedTimeout(defaults.timeout, 'defaults.timeout'),
    logger: leveledLogger(loggerOption(options.logger) ?? silentLogger, logLevel),
    unknownFlowGraceMs: durationOption(options.unknownFlowGrace, '10m', 'unknownFlowGrace', 0),
    interceptors: options.interceptors === undefined ? [] : checkInterceptors(options.interceptors),
    tracing: booleanOption(options.tracing, 'tracing'),
    metrics: metricsOption(options.metrics),
    clock: options.backend?.clock ?? systemClock,
  };
}

/** An integer option within [min, max]; absent means the default. */
function integerOption(value: unknown, fallback: number, name: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new GoTickConfigError(`Invalid ${name} ${JSON.stringify(value)}: an integer from ${min} to ${max}.`);
  }
  return value;
}

/**
 * A Duration option from `minMs` to `maxMs`; absent means the default. The parser's own error becomes a config
 * error naming the option. Options that drive a Node timer pass MAX_TIMER_MS (about 24.8 days): setTimeout
 * would fire a longer one after 1 ms.
 */
function durationOption(value: Duration | undefined, fallback: Duration, name: string, minMs: number, maxMs = Infinity): number {
  let ms: number;
  try {
    ms = toMs(value ?? fallback, name);
  } catch (err) {
    throw new GoTickConfigError((err as Error).message);
  }
  if (ms < minMs) {
    throw new GoTickConfigError(`Invalid ${name} ${JSON.stringify(value)}: at least ${minMs} ms.`);
  }
  if (ms > maxMs) {
    throw new GoTickConfigError(`Invalid ${name} ${JSON.stringify(value)}: at most ${maxMs} ms (about 24.8 days), the longest timer Node honours.`);
  }
  return ms;
}

/** Checked once here so that a typo fails at bootstrap, not at a step's first retry days later. */
function backoffOption(value: Backoff | undefined, name: string): Backoff | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'string') {
    durationOption(value, 0, name, 0);
    return value;
  }
  if (value === null || typeof value !== 'object' || (value.type !== 'fixed' && value.type !== 'exponential')) {
    throw new GoTickConfigError(
      `Invalid ${name} ${JSON.stringify(value)}: a duration, or { type: 'fixed' | 'exponential', delay, maxDelay? }.`,
    );
  }
  durationOption(value.delay, 0, `${name}.delay`, 0);
  if (value.maxDelay !== undefined) durationOption(value.maxDelay, 0, `${name}.maxDelay`, 0);
  return value;
}

function loggerOption(logger: EngineLogger | undefined): EngineLogger | undefined {
  if (logger === undefined) return undefined;
  const missing = (['log', 'warn', 'error'] as const).filter((level) => typeof logger?.[level] !== 'function');
  if (missing.length) {
    throw new GoTickConfigError(`Invalid logger: it needs the methods log, warn and error (missing: ${missing.join(', ')}).`);
  }
  return logger;
}

/** Interceptors, checked: each has interceptRun and/or interceptStep, and nothing else by those names. */
export function checkInterceptors(value: unknown): GoTickInterceptor[] {
  if (!Array.isArray(value)) throw new GoTickConfigError(`Invalid interceptors ${typeof value}: an array of { interceptRun?, interceptStep? } objects.`);
  value.forEach((interceptor: unknown, i) => {
    const methods = interceptor !== null && typeof interceptor === 'object' ? (interceptor as Record<string, unknown>) : {};
    const ok = typeof methods.interceptRun === 'function' || typeof methods.interceptStep === 'function';
    const wrong = ['interceptRun', 'interceptStep'].filter((m) => methods[m] !== undefined && typeof methods[m] !== 'function');
    if (!ok || wrong.length) {
      const name = (interceptor as object | null)?.constructor?.name;
      throw new GoTickConfigError(
        `Invalid interceptors[${i}]${name && name !== 'Object' ? ` (${name})` : ''}: an object with an interceptRun(info, next) and/or interceptStep(info, next) method.`,
      );
    }
  });
  return [...value];
}

function booleanOption(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new GoTickConfigError(`Invalid ${name} ${JSON.stringify(value)}: true or false.`);
  return value;
}

function metricsOption(value: MetricsOption | undefined): Exclude<MetricsOption, true> {
  if (value === undefined || value === false) return false;
  if (value === true) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GoTickConfigError(`Invalid metrics ${JSON.stringify(value)}: true, false, or { registry?, prefix? }.`);
  }
  return value;
}

/** A step timeout from options: checked here so a bad one fails at bootstrap, not at a step. */
export function checkedTimeout(timeout: Duration | undefined, what: string): Duration | undefined {
  if (timeout === undefined) return undefined;
  try {
    if (toMs(timeout, what) > 0) return timeout;
  } catch (err) {
    throw new GoTickConfigError((err as Error).message);
  }
  throw new GoTickConfigError(`Invalid ${what} ${JSON.stringify(timeout)}: a step timeout must be longer than 0.`);
}
