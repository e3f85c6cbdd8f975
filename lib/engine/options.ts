import { toMs, type Duration } from '../common/duration';
import { MAX_TIMER_MS } from '../common/timers';
import { GoTickConfigError } from '../common/errors';
import type { Backoff } from '../common/types';
import type { EngineLogger } from './flow-definition';
import type { RedisConnection } from './redis/connection';

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
    /** How long an execution's lease (and job lock) lasts without renewal; a crashed worker's run is retried after about this long. Default '30s'. */
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
   * handed back so another node resumes them at once. Default '10s'.
   */
  shutdownTimeout?: Duration;
  logger?: EngineLogger;
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
  retries: number;
  backoff: Backoff;
  /** defaults.timeout, checked; undefined when unset. */
  timeout?: Duration;
  logger: EngineLogger;
}

const silentLogger: EngineLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A Duration that drives a Node timer: at most MAX_TIMER_MS (about 24.8 days), which setTimeout would otherwise fire after 1 ms. */
function timerMs(duration: Duration, what: string): number {
  const value = toMs(duration, what);
  if (value > MAX_TIMER_MS) {
    throw new GoTickConfigError(`Invalid ${what} ${JSON.stringify(duration)}: at most ${MAX_TIMER_MS} ms (about 24.8 days), the longest timer Node honours.`);
  }
  return value;
}

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
  const maxSignalsPerRun = options.limits?.maxSignalsPerRun ?? 1000;
  if (!Number.isInteger(maxSignalsPerRun) || maxSignalsPerRun < 1) {
    throw new GoTickConfigError(`Invalid limits.maxSignalsPerRun ${JSON.stringify(maxSignalsPerRun)}: an integer of at least 1.`);
  }
  const worker = options.worker;
  return {
    prefix,
    leaseMs: timerMs(worker ? (worker.lease ?? '30s') : '30s', 'worker.lease'),
    concurrency: worker === false ? 1 : (worker?.concurrency ?? 10),
    maxPayloadBytes: options.limits?.maxPayloadBytes ?? 1024 * 1024,
    maxSignalsPerRun,
    retentionMs: toMs(options.retention ?? '7d', 'retention'),
    partitions,
    connectTimeoutMs: timerMs(options.connectTimeout ?? '10s', 'connectTimeout'),
    shutdownTimeoutMs: timerMs(options.shutdownTimeout ?? '10s', 'shutdownTimeout'),
    retries: options.defaults?.retries ?? 3,
    backoff: options.defaults?.backoff ?? { type: 'exponential', delay: '1s', maxDelay: '5m' },
    timeout: checkedTimeout(options.defaults?.timeout, 'defaults.timeout'),
    logger: options.logger ?? silentLogger,
  };
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
