import type { RunInterceptInfo } from '../../common/interceptors';

/**
 * What tracing needs of an execution beyond the public RunInterceptInfo:
 * the trigger's trace context stored with the run, the previous execution's,
 * and a way to store this one's for the next. Kept beside the info (not on
 * it), so user interceptors see only the public fields.
 */
export interface ExecutionTrace {
  /** W3C traceparent of the trigger's span, written by the create script. */
  parent?: string;
  /** W3C traceparent of the previous execution's span, if it recorded one. */
  previous?: string;
  /** Stores this execution's span context with the run (fenced by the lease, not awaited). */
  record(traceparent: string): void;
}

const traces = new WeakMap<RunInterceptInfo, ExecutionTrace>();

export function attachTrace(info: RunInterceptInfo, trace: ExecutionTrace): void {
  traces.set(info, trace);
}

export function traceOf(info: RunInterceptInfo): ExecutionTrace | undefined {
  return traces.get(info);
}
