import { FlowTimeoutError, LeaseExpiredError, StepTimeoutError } from '../common/errors';
import type { ErrorInfo } from '../common/types';

/** Most stack lines kept, header included: enough to find the user's frame, small enough for the run hash. */
export const MAX_STACK_LINES = 30;
/** A frame line longer than this (a minified bundle, a data URL) is cut. */
const MAX_LINE_CHARS = 300;
/** Frames inside Node itself say nothing about the user's code. */
const NODE_INTERNAL = /^\s*at (?:.*\()?(?:node:|internal\/)/;

/**
 * What we keep of an error: name, message, and the stack trimmed to
 * MAX_STACK_LINES lines without Node's internal frames. Stored in the run
 * record for the run view; HTTP error bodies never carry it.
 */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const info: ErrorInfo = { name: err.name || 'Error', message: err.message };
    // Raised by the engine itself (a timer, or a takeover found on claim): no frame of the user's code in its stack.
    if (err instanceof StepTimeoutError || err instanceof FlowTimeoutError || err instanceof LeaseExpiredError) return info;
    const stack = trimStack(err.stack);
    if (stack) info.stack = stack;
    return info;
  }
  return { name: 'Error', message: typeof err === 'string' ? err : JSON.stringify(err) ?? String(err) };
}

/** The stack without Node's internal frames, at most MAX_STACK_LINES lines; undefined when there is none. */
export function trimStack(stack: unknown): string | undefined {
  if (typeof stack !== 'string' || stack === '') return undefined;
  const kept: string[] = [];
  for (const line of stack.split('\n')) {
    if (NODE_INTERNAL.test(line)) continue;
    kept.push(line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line);
    if (kept.length === MAX_STACK_LINES) break;
  }
  return kept.join('\n');
}

/** The error without its stack: older entries of a step's error list keep name and message only. */
export function withoutStack<T extends ErrorInfo>(info: T): T {
  if (info.stack === undefined) return info;
  const { stack: _stack, ...rest } = info;
  return rest as T;
}
