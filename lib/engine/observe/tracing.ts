import type * as Otel from '@opentelemetry/api';
import type { ExecutionEnd, GoTickInterceptor, RunInterceptInfo, StepInterceptInfo } from '../../common/interceptors';
import type { ErrorInfo } from '../../common/types';
import { traceOf } from './execution-trace';
import { optionalPeer } from './optional-peer';
import { formatTraceparent, parseTraceparent } from './traceparent';

/**
 * Wraps a trigger in its span; `traceparent` is what the run stores (undefined when there is no valid context).
 * `runId` names the run of a single trigger; a batch has `runs` instead.
 */
export type TriggerTracer = <T>(flowId: string, runs: number | { runId: string }, write: (traceparent: string | undefined) => Promise<T>) => Promise<T>;

const TRACER_NAME = 'nestjs-gotick';

/**
 * OpenTelemetry spans through @opentelemetry/api alone: a no-op until the app
 * registers an SDK. `gotick.trigger <flowId>` (producer) where a run is
 * started, its context stored with the run; `gotick.run <flowId>` (consumer)
 * per execution, a child of the trigger on whichever node it runs, linked to
 * the previous execution; `gotick.step <key>` per attempt inside it.
 */
export function createTracing(): { interceptor: GoTickInterceptor; traceTrigger: TriggerTracer } {
  const api = optionalPeer<typeof Otel>('@opentelemetry/api', 'tracing');
  // Taken once: before the app registers its SDK this is the API's proxy tracer, which finds the SDK once there.
  const cached = api.trace.getTracer(TRACER_NAME);
  const tracer = () => cached;

  const failed = (span: Otel.Span, error: unknown) => {
    const info = error instanceof Error ? error : new Error(String(error));
    span.recordException(info);
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: `${info.name}: ${info.message}` });
  };
  const failedRun = (span: Otel.Span, error: ErrorInfo) => {
    span.recordException({ name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) });
    span.setStatus({ code: api.SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
  };

  const traceTrigger: TriggerTracer = (flowId, runs, write) =>
    tracer().startActiveSpan(
      `gotick.trigger ${flowId}`,
      { kind: api.SpanKind.PRODUCER, attributes: { 'gotick.flow_id': flowId, ...(typeof runs === 'number' ? { 'gotick.runs': runs } : { 'gotick.run_id': runs.runId }) } },
      async (span) => {
        const context = span.spanContext();
        try {
          return await write(api.isSpanContextValid(context) ? formatTraceparent(context) : undefined);
        } catch (err) {
          failed(span, err);
          throw err;
        } finally {
          span.end();
        }
      },
    );

  const interceptRun = (info: RunInterceptInfo, next: () => Promise<ExecutionEnd>): Promise<ExecutionEnd> => {
    const trace = traceOf(info);
    // The worker's own context (a BullMQ job callback) is not the run's: start from the trigger's, or a new trace.
    const parent = parseTraceparent(trace?.parent);
    const previous = parseTraceparent(trace?.previous);
    const context = parent ? api.trace.setSpanContext(api.ROOT_CONTEXT, parent) : api.ROOT_CONTEXT;
    const options: Otel.SpanOptions = {
      kind: api.SpanKind.CONSUMER,
      attributes: { 'gotick.flow_id': info.flowId, 'gotick.run_id': info.runId, 'gotick.execution': info.execution, 'gotick.run.attempt': info.attempt },
      ...(previous ? { links: [{ context: previous, attributes: { 'gotick.link': 'previous_execution' } }] } : {}),
    };
    return tracer().startActiveSpan(`gotick.run ${info.flowId}`, options, context, async (span) => {
      if (span.isRecording()) trace?.record(formatTraceparent(span.spanContext()));
      try {
        const end = await next();
        span.setAttribute('gotick.execution.end', end.status);
        if (end.status === 'failed') failedRun(span, end.error);
        return end;
      } catch (err) {
        failed(span, err);
        throw err;
      } finally {
        span.end();
      }
    });
  };

  const interceptStep = (info: StepInterceptInfo, next: () => Promise<unknown>): Promise<unknown> =>
    tracer().startActiveSpan(
      `gotick.step ${info.key}`,
      {
        kind: api.SpanKind.INTERNAL,
        attributes: {
          'gotick.flow_id': info.flowId,
          'gotick.run_id': info.runId,
          'gotick.step.key': info.key,
          'gotick.step.kind': info.kind,
          'gotick.step.attempt': info.attempt,
        },
      },
      async (span) => {
        try {
          return await next();
        } catch (err) {
          failed(span, err);
          throw err;
        } finally {
          span.end();
        }
      },
    );

  return { interceptor: { interceptRun, interceptStep }, traceTrigger };
}
