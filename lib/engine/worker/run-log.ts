import type { ErrorInfo } from '../../common/types';
import type { EngineLogger } from '../flow-definition';

/** How much the engine logs, from most to least; each level includes the ones after it. @public */
export type LogLevel = 'debug' | 'log' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'log', 'warn', 'error', 'silent'];

/**
 * The user's logger behind a level: messages below `level` are dropped here,
 * so no logger sees them. A logger without `debug` gets debug lines on `log`.
 * Below 'debug', `debug` is left out: `logger.debug?.(...)` then does not even
 * build its message (it is called once per execution).
 */
export function leveledLogger(logger: EngineLogger, level: LogLevel): EngineLogger {
  const rank = LOG_LEVELS.indexOf(level);
  const skip = () => undefined;
  return {
    ...(rank <= 0 ? { debug: (message: string) => (logger.debug ? logger.debug(message) : logger.log(message)) } : {}),
    log: rank <= 1 ? (message) => logger.log(message) : skip,
    warn: rank <= 2 ? (message) => logger.warn(message) : skip,
    error: rank <= 3 ? (message, stack) => logger.error(message, stack) : skip,
  };
}

interface RunRef {
  readonly runId: string;
  readonly flowId: string;
}

const where = (run: RunRef) => `Run "${run.runId}" of flow "${run.flowId}"`;
const what = (error: ErrorInfo) => `${error.name}: ${error.message}`;

/**
 * The lines a run leaves in the log. Failures at warn, once each: they are
 * written where the attempt ran or the run ended (after the fenced write),
 * never on replay. Routine steps of a run's life at debug.
 */
export class RunLog {
  constructor(private readonly logger: EngineLogger) {}

  started(run: RunRef, execution: number): void {
    this.logger.debug?.(`${where(run)} started (execution ${execution}).`);
  }

  parked(run: RunRef, wakeAt: number): void {
    this.logger.debug?.(`${where(run)} parked until ${new Date(wakeAt).toISOString()}.`);
  }

  completed(run: RunRef): void {
    this.logger.debug?.(`${where(run)} completed.`);
  }

  cancelled(run: RunRef): void {
    this.logger.debug?.(`${where(run)} cancelled.`);
  }

  attemptFailed(run: RunRef, stepKey: string, attempt: number, error: ErrorInfo): void {
    this.logger.warn(`${where(run)}: step "${stepKey}" attempt ${attempt} failed: ${what(error)}`);
  }

  runFailed(run: RunRef, error: ErrorInfo, stepKey?: string): void {
    const step = stepKey === undefined ? '' : ` at step "${stepKey}"`;
    this.logger.warn(`${where(run)} failed${step}: ${what(error)}`);
  }
}
