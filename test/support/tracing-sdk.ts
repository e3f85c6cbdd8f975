import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A finished span as plain JSON, so spans of several processes can be compared in one place. */
export interface SpanRecord {
  name: string;
  kind: keyof typeof SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
  links: Array<{ traceId: string; spanId: string; attributes?: Record<string, unknown> }>;
  status: { code: keyof typeof SpanStatusCode; message?: string };
  /** Names of the span's events ('exception' for a recorded error). */
  events: string[];
  /** Which process ended it. */
  process: string;
}

/**
 * The OpenTelemetry SDK as an app registers it, exporting to memory: a
 * tracer provider and the AsyncLocalStorage context manager, set globally.
 * GoTick itself only ever talks to @opentelemetry/api.
 */
export function installTracing(processName: string): { exporter: InMemorySpanExporter; records(): SpanRecord[]; uninstall(): void } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  return {
    exporter,
    records: () => exporter.getFinishedSpans().map((span) => toRecord(span, processName)),
    uninstall: () => {
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

function toRecord(span: ReadableSpan, processName: string): SpanRecord {
  const { traceId, spanId } = span.spanContext();
  return {
    name: span.name,
    kind: SpanKind[span.kind] as keyof typeof SpanKind,
    traceId,
    spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    attributes: { ...span.attributes },
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId, ...(link.attributes ? { attributes: { ...link.attributes } } : {}) })),
    status: { code: SpanStatusCode[span.status.code] as keyof typeof SpanStatusCode, ...(span.status.message ? { message: span.status.message } : {}) },
    events: span.events.map((event) => event.name),
    process: processName,
  };
}
