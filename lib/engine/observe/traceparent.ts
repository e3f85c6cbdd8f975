/** An OpenTelemetry SpanContext, structurally (this file needs nothing else of @opentelemetry/api). */
export interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
}

// W3C Trace Context, version 00: 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The traceparent header value of a span context. Written by hand rather than
 * through the app's global propagator: the run hash always holds W3C context,
 * whichever propagator (or none) the app registered.
 */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The remote span context a stored traceparent names; undefined for a malformed or all-zero one. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const match = value === undefined ? null : TRACEPARENT.exec(value);
  if (!match || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return { traceId: match[1], spanId: match[2], traceFlags: parseInt(match[3], 16), isRemote: true };
}
