import { SpanKind, trace } from '@opentelemetry/api';
import { GoTickEngine, NonRetriableError, type FlowContext } from '../../lib/engine';
import { WORKER_FLOWS, spansKey, startWorkerProcess, takeEvents, useWorkerProcesses } from '../support/child-worker';
import { installTracing, type SpanRecord } from '../support/tracing-sdk';
import { waitUntil } from '../support/wait-until';

const runKey = (prefix: string, runId: string) => `${prefix}:run:{${runId}}`;

/** The one span named `name` (fails listing every span when there is not exactly one). */
function only(spans: SpanRecord[], name: string, where: (span: SpanRecord) => boolean = () => true): SpanRecord {
  const found = spans.filter((span) => span.name === name && where(span));
  if (found.length !== 1) throw new Error(`expected one span "${name}", found ${found.length} in ${JSON.stringify(spans.map((s) => s.name))}`);
  return found[0];
}

describe('OpenTelemetry tracing (tracing: true), with the SDK exporting to memory', () => {
  const env = useWorkerProcesses('trace');
  let sdk: ReturnType<typeof installTracing>;
  const engines: GoTickEngine[] = [];
  beforeAll(() => {
    sdk = installTracing('test');
  });
  beforeEach(() => sdk.exporter.reset());
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((engine) => engine.close()));
  });
  afterAll(() => sdk.uninstall());

  async function engine(flows: Array<{ id: string; handler: (ctx: FlowContext<any>) => unknown }>, worker: boolean): Promise<GoTickEngine> {
    const made = new GoTickEngine({ connection: env.redis.url, prefix: env.prefix, tracing: true, defaults: { retries: 3, backoff: 0 }, ...(worker ? {} : { worker: false }) });
    for (const flow of flows) made.register(flow);
    engines.push(made);
    await made.start();
    return made;
  }

  it('makes one trace of a request, its trigger and both executions of a run on two worker processes, the second linked to the first', async () => {
    const producer = await engine([{ id: WORKER_FLOWS.payment, handler: () => undefined }], false);
    // The app's own span around the trigger, as an HTTP server instrumentation would open.
    const request = trace.getTracer('app');
    const runId = await request.startActiveSpan('POST /orders', { kind: SpanKind.SERVER }, async (span) => {
      try {
        return (await producer.trigger(WORKER_FLOWS.payment)).runId;
      } finally {
        span.end();
      }
    });

    // Execution 1 on node A: task "before", then the run parks waiting for its signal.
    const nodeA = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'node-a', tracing: true });
    await waitUntil(async () => (await producer.getRun(runId))?.status === 'sleeping', 'the run to park on its signal wait');
    await nodeA.stop();
    // Execution 2 on node B, woken by the signal: task "after", then the run completes.
    const nodeB = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'node-b', tracing: true });
    await producer.signal(runId, 'payment', { paid: 12 });
    const run = await producer.waitForRun(runId);
    expect(run.status).toBe('completed');
    expect(run.executions).toBe(2);
    await nodeB.stop();

    const fromWorkers = (await env.redis.client.lrange(spansKey(env.prefix), 0, -1)).map((row) => JSON.parse(row) as SpanRecord);
    const spans = [...sdk.records(), ...fromWorkers];
    const http = only(spans, 'POST /orders');
    const trigger = only(spans, `gotick.trigger ${WORKER_FLOWS.payment}`);
    const first = only(spans, `gotick.run ${WORKER_FLOWS.payment}`, (s) => s.attributes['gotick.execution'] === 1);
    const second = only(spans, `gotick.run ${WORKER_FLOWS.payment}`, (s) => s.attributes['gotick.execution'] === 2);
    const before = only(spans, 'gotick.step before');
    const after = only(spans, 'gotick.step after');

    // One trace, across three processes.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([http.traceId]));
    expect([trigger.process, first.process, before.process, second.process, after.process]).toEqual(['test', 'node-a', 'node-a', 'node-b', 'node-b']);
    // request -> trigger -> each execution -> its steps.
    expect(trigger).toEqual(expect.objectContaining({ kind: 'PRODUCER', parentSpanId: http.spanId, attributes: { 'gotick.flow_id': WORKER_FLOWS.payment, 'gotick.run_id': runId } }));
    for (const execution of [first, second]) {
      expect(execution.kind).toBe('CONSUMER');
      expect(execution.parentSpanId).toBe(trigger.spanId);
      expect(execution.attributes).toEqual(expect.objectContaining({ 'gotick.flow_id': WORKER_FLOWS.payment, 'gotick.run_id': runId }));
    }
    expect(first.attributes['gotick.execution.end']).toBe('parked');
    expect(second.attributes['gotick.execution.end']).toBe('completed');
    expect(before.parentSpanId).toBe(first.spanId);
    expect(after.parentSpanId).toBe(second.spanId);
    expect(before.attributes).toEqual({
      'gotick.flow_id': WORKER_FLOWS.payment,
      'gotick.run_id': runId,
      'gotick.step.key': 'before',
      'gotick.step.kind': 'task',
      'gotick.step.attempt': 1,
    });
    // The resumed execution links to the one before it; the first links to nothing.
    expect(first.links).toEqual([]);
    expect(second.links).toEqual([{ traceId: first.traceId, spanId: first.spanId, attributes: { 'gotick.link': 'previous_execution' } }]);
    // The trigger's context is what the run stores (W3C traceparent, sampled).
    expect(await env.redis.client.hget(runKey(env.prefix, runId), 'traceparent')).toBe(`00-${trigger.traceId}-${trigger.spanId}-01`);
  });

  it('links the execution that takes over from a SIGKILLed node to the span that node recorded, in the same trace', async () => {
    const producer = await engine([{ id: WORKER_FLOWS.checkout, handler: () => undefined }], false);
    const { runId } = await producer.trigger(WORKER_FLOWS.checkout);
    const trigger = only(sdk.records(), `gotick.trigger ${WORKER_FLOWS.checkout}`);
    // Node A dies in the middle of "charge": its spans die with it, but its execution's context was stored with the run.
    const nodeA = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'node-a', tracing: true, hangOn: ['charge'] });
    await takeEvents(env.blocking, env.prefix, (event) => event.runId === runId && event.key === 'charge', 1);
    // Its heartbeat marks the attempt running, so the takeover counts it as lost: the next is attempt 2.
    await waitUntil(async () => (await producer.getRun(runId))?.steps.find((step) => step.key === 'charge')?.status === 'running', 'charge marked running');
    const recorded = await env.redis.client.hget(runKey(env.prefix, runId), 'lastTrace');
    expect(recorded).toMatch(new RegExp(`^00-${trigger.traceId}-[0-9a-f]{16}-01$`));
    await nodeA.kill();

    const nodeB = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'node-b', tracing: true });
    const run = await producer.waitForRun(runId, { timeout: '20s' });
    expect(run.status).toBe('completed');
    await nodeB.stop();

    const spans = (await env.redis.client.lrange(spansKey(env.prefix), 0, -1)).map((row) => JSON.parse(row) as SpanRecord);
    const takeover = only(spans, `gotick.run ${WORKER_FLOWS.checkout}`);
    expect(takeover).toEqual(expect.objectContaining({ process: 'node-b', traceId: trigger.traceId, parentSpanId: trigger.spanId }));
    expect(takeover.attributes['gotick.execution']).toBe(2);
    expect(takeover.links).toEqual([{ traceId: trigger.traceId, spanId: recorded!.split('-')[2], attributes: { 'gotick.link': 'previous_execution' } }]);
    // The step that was in flight on node A is attempted again on node B, inside the new execution's span.
    const charge = only(spans, 'gotick.step charge');
    expect(charge.parentSpanId).toBe(takeover.spanId);
    expect(charge.attributes['gotick.step.attempt']).toBe(2);
  });

  it('records failed attempts and a failed run as errors (status ERROR, an exception event), without a parent span for a bare trigger', async () => {
    let flaky = 0;
    const worker = await engine(
      [
        {
          id: 'traced/failing',
          handler: async (ctx: FlowContext) => {
            await ctx.task('flaky', () => {
              if (++flaky === 1) throw new Error('gateway timeout');
            });
            await ctx.task('broken', () => {
              throw new NonRetriableError('card declined');
            });
          },
        },
      ],
      true,
    );
    const { runId } = await worker.trigger('traced/failing');
    expect((await worker.waitForRun(runId)).status).toBe('failed');
    // The run span ends after the run is written: wait for it rather than for the run.
    const spans = await waitUntil((): SpanRecord[] | undefined => {
      const all = sdk.records();
      return all.some((s) => s.name === 'gotick.run traced/failing') ? all : undefined;
    }, 'the run span to end');

    const trigger = only(spans, 'gotick.trigger traced/failing');
    expect(trigger.parentSpanId).toBeUndefined();
    const run = only(spans, 'gotick.run traced/failing');
    expect(run.parentSpanId).toBe(trigger.spanId);
    expect(run.status).toEqual({ code: 'ERROR', message: expect.stringContaining('StepFailedError') });
    expect(run.status.message).toContain('card declined');
    expect(run.events).toEqual(['exception']);
    expect(run.attributes['gotick.execution.end']).toBe('failed');

    const attempts = spans.filter((s) => s.name === 'gotick.step flaky').sort((a, b) => Number(a.attributes['gotick.step.attempt']) - Number(b.attributes['gotick.step.attempt']));
    expect(attempts.map((s) => [s.attributes['gotick.step.attempt'], s.status.code, s.events])).toEqual([
      [1, 'ERROR', ['exception']],
      [2, 'UNSET', []],
    ]);
    expect(attempts[0].status.message).toBe('Error: gateway timeout');
    const broken = only(spans, 'gotick.step broken');
    expect(broken.status).toEqual({ code: 'ERROR', message: 'NonRetriableError: card declined' });
    expect(spans.every((s) => s.traceId === trigger.traceId)).toBe(true);
    expect([...attempts, broken].every((s) => s.parentSpanId === run.spanId)).toBe(true);
  });

  it('traces from an engine built before the app registered its SDK (the order a module import and a late SDK start give)', async () => {
    sdk.uninstall();
    const early = new GoTickEngine({ connection: env.redis.url, prefix: env.prefix, tracing: true });
    early.register({ id: 'traced/early', handler: async (ctx: FlowContext) => ctx.memo('m', () => 1) });
    engines.push(early);
    sdk = installTracing('test');
    await early.start();
    const { runId } = await early.trigger('traced/early');
    await early.waitForRun(runId);
    const spans = await waitUntil((): SpanRecord[] | undefined => {
      const all = sdk.records();
      return all.some((s) => s.name === 'gotick.run traced/early') ? all : undefined;
    }, 'the run span');
    expect(only(spans, 'gotick.run traced/early').parentSpanId).toBe(only(spans, 'gotick.trigger traced/early').spanId);
    expect(only(spans, 'gotick.step m').attributes['gotick.run_id']).toBe(runId);
  });

  it('gives triggerMany one producer span that every run of the batch descends from', async () => {
    const worker = await engine([{ id: 'traced/batch', handler: async (ctx: FlowContext) => ctx.memo('m', () => ctx.runId) }], true);
    const results = await worker.triggerMany('traced/batch', [{}, {}, {}]);
    for (const { runId } of results) expect((await worker.waitForRun(runId)).status).toBe('completed');
    const spans = await waitUntil((): SpanRecord[] | undefined => {
      const all = sdk.records();
      return all.filter((s) => s.name === 'gotick.run traced/batch').length === 3 ? all : undefined;
    }, 'three run spans');
    const trigger = only(spans, 'gotick.trigger traced/batch');
    expect(trigger.attributes).toEqual({ 'gotick.flow_id': 'traced/batch', 'gotick.runs': 3 });
    const runs = spans.filter((s) => s.name === 'gotick.run traced/batch');
    expect(runs.map((s) => s.parentSpanId)).toEqual([trigger.spanId, trigger.spanId, trigger.spanId]);
    expect(new Set(runs.map((s) => s.attributes['gotick.run_id']))).toEqual(new Set(results.map((r) => r.runId)));
  });
});
