import 'reflect-metadata';
import { Injectable, RequestMethod, type INestApplication, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { getMetadataStorage } from 'class-validator';
import { CancelRunDto, Flow, GoTickModule, ListRunsDto, ScheduleDto, SignalDto, TriggerBatchDto, TriggerRunDto, type FlowContext } from '../../lib';
import { GoTickMetricsController } from '../../lib/nest/http/metrics.controller';
import { TickController } from '../../lib/nest/http/tick.controller';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; oneOf?: Schema[]; allOf?: Schema[] };
type Operation = {
  operationId?: string;
  parameters?: Array<{ name: string; in: string; schema?: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
  security?: Array<Record<string, string[]>>;
};
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, { type: string; scheme?: string }> };
}

/** Holds the capped flow's first run (and so its slot) until the test lets it go. */
let releaseCapped: () => void = () => undefined;
const cappedHeld = new Promise<void>((resolve) => (releaseCapped = resolve));

@Injectable()
class DocFlows {
  @Flow('docs/capped', { concurrency: { limit: 1, key: (input: { customer: string }) => input.customer } })
  async capped(ctx: FlowContext<{ customer: string; hold?: boolean }>) {
    await ctx.task('sync', () => (ctx.input.hold ? cappedHeld : undefined));
  }

  @Flow('docs/full')
  async full(ctx: FlowContext<{ n: number }>) {
    await ctx.task('flaky', (task) => {
      if (task.attempt === 1) throw new Error('first attempt fails');
      return ctx.input.n;
    }, { retries: 1, backoff: 1 });
    await ctx.sleep('nap', 1);
    const signal = await ctx.waitForSignal('go', 'go');
    return { n: ctx.input.n, payload: signal?.payload };
  }

  @Flow('docs/boom')
  async boom(ctx: FlowContext) {
    await ctx.task('explode', () => {
      throw new Error('always');
    }, { retries: 0 });
  }
}

const TOKEN = 'docs-token';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const VERBS: Record<number, string> = { [RequestMethod.GET]: 'get', [RequestMethod.POST]: 'post', [RequestMethod.PUT]: 'put', [RequestMethod.DELETE]: 'delete', [RequestMethod.PATCH]: 'patch' };

/** Every route the controller mounts, as OpenAPI writes it ('runs/:runId' -> '/gotick/runs/{runId}'). */
function mountedRoutes(path: string, controller: Function = TickController): Array<{ verb: string; path: string; handler: string }> {
  const prototype = controller.prototype as Record<string, Function>;
  return Object.getOwnPropertyNames(prototype)
    .filter((name) => name !== 'constructor' && Reflect.hasMetadata(PATH_METADATA, prototype[name]))
    .map((handler) => {
      const route = String(Reflect.getMetadata(PATH_METADATA, prototype[handler])).replace(/(?<!\\):(\w+)/g, '{$1}').replace(/\\:/g, ':');
      return { verb: VERBS[Reflect.getMetadata(METHOD_METADATA, prototype[handler]) as number], path: `/${path}/${route}`, handler };
    });
}

/** The properties class-validator checks on a DTO: what a body or query may carry. */
function validatedFields(dto: Type): string[] {
  const storage = getMetadataStorage();
  return [...new Set(storage.getTargetValidationMetadatas(dto, '', true, false).map((meta) => meta.propertyName))].sort();
}

function resolve(doc: OpenApiDocument, schema: Schema): Schema {
  return schema.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')] : schema;
}

/** Paths inside `value` that `schema` does not describe, and required fields `value` lacks: what a generated client would get wrong. */
function mismatches(doc: OpenApiDocument, value: unknown, schema: Schema, at = '$'): string[] {
  const resolved = resolve(doc, schema);
  if (resolved.oneOf) return []; // any JSON (input, output, result, payload)
  if (resolved.type === 'array') {
    if (!Array.isArray(value)) return [`${at}: not an array`];
    return value.flatMap((item, i) => mismatches(doc, item, resolved.items!, `${at}[${i}]`));
  }
  if (resolved.properties) {
    if (value === null || typeof value !== 'object') return [`${at}: not an object`];
    const extra = Object.keys(value).filter((key) => !(key in resolved.properties!)).map((key) => `${at}.${key}: not in the schema`);
    const missing = (resolved.required ?? []).filter((key) => !(key in value)).map((key) => `${at}.${key}: required but absent`);
    const nested = Object.entries(value).flatMap(([key, child]) => (resolved.properties![key] ? mismatches(doc, child, resolved.properties![key], `${at}.${key}`) : []));
    return [...extra, ...missing, ...nested];
  }
  return [];
}

function successSchema(operation: Operation): Schema {
  const [status] = Object.keys(operation.responses).filter((code) => code.startsWith('2'));
  return operation.responses[status].content!['application/json'].schema;
}

describe('OpenAPI document of the REST routes (@nestjs/swagger)', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    redis = await startRedis();
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `docs${process.pid}`, http: { path: 'gotick', token: TOKEN } })],
      providers: [DocFlows],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    // What a user writes in main.ts: the document, served with Swagger UI at /docs and as JSON at /docs-json.
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('app').addBearerAuth().build());
    SwaggerModule.setup('docs', app, document);
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    base = `${url}/gotick`;
    doc = (await (await fetch(`${url}/docs-json`)).json()) as OpenApiDocument;
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('lists every route the controller mounts, each with an operation id, a success schema, errors and the bearer scheme', () => {
    const routes = mountedRoutes('gotick');
    expect(routes.length).toBeGreaterThanOrEqual(8);
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) => Object.keys(operations).map((verb) => `${verb} ${path}`));
    // The metrics route is API too; the dashboard's page and files are not.
    const metrics = mountedRoutes('gotick', GoTickMetricsController);
    expect(metrics.map((route) => `${route.verb} ${route.path}`)).toEqual(['get /gotick/metrics']);
    expect(documented.sort()).toEqual([...routes, ...metrics].map((route) => `${route.verb} ${route.path}`).sort());
    expect(doc.paths['/gotick/metrics'].get).toMatchObject({ operationId: 'gotickMetrics', security: [{ bearer: [] }] });
    expect(Object.keys(doc.paths['/gotick/metrics'].get.responses).sort()).toEqual(['200', '401', '404']);
    const ids = new Set<string>();
    for (const route of routes) {
      const operation = doc.paths[route.path][route.verb];
      expect([route.handler, operation.operationId]).toEqual([route.handler, expect.stringMatching(/^gotick[A-Z]/)]);
      ids.add(operation.operationId!);
      expect(successSchema(operation).$ref).toMatch(/^#\/components\/schemas\/GoTick/);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '401', '503']));
      expect(operation.security).toEqual([{ bearer: [] }]);
    }
    expect(ids.size).toBe(routes.length);
    expect(doc.components.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes every field each body and query DTO validates', () => {
    const bodyOf = (path: string, verb: 'post' | 'put' = 'post') => resolve(doc, doc.paths[path][verb]!.requestBody!.content['application/json'].schema);
    const described = (schema: Schema) => Object.keys(schema.properties ?? {}).sort();
    expect(described(bodyOf('/gotick/flows/{flowId}/runs'))).toEqual(validatedFields(TriggerRunDto));
    expect(described(bodyOf('/gotick/runs/{runId}/cancel'))).toEqual(validatedFields(CancelRunDto));
    expect(described(bodyOf('/gotick/runs/{runId}/signals/{name}'))).toEqual(validatedFields(SignalDto));
    // The schedule's input, like a trigger's, is set aside before validation.
    expect(described(bodyOf('/gotick/schedules/{scheduleId}', 'put'))).toEqual(['input', ...validatedFields(ScheduleDto)].sort());
    // The batch's runs are set aside before validation; the rest is TriggerBatchDto.
    expect(described(bodyOf('/gotick/flows/{flowId}/runs:batch'))).toEqual(['runs', ...validatedFields(TriggerBatchDto)].sort());
    const query = doc.paths['/gotick/runs'].get.parameters!.filter((param) => param.in === 'query').map((param) => param.name).sort();
    expect(query).toEqual(validatedFields(ListRunsDto));
    expect(doc.paths['/gotick/runs'].get.parameters!.find((param) => param.name === 'status')!.schema).toMatchObject({ enum: expect.arrayContaining(['failed']) });
  });

  it('response schemas describe exactly what the routes answer (every field, every required one)', async () => {
    const call = async (verb: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}${path}`, { method: verb.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, json: (await response.json()) as unknown };
    };
    const check = async (verb: string, docPath: string, path: string, body?: unknown) => {
      const { status, json } = await call(verb, path, body);
      const operation = doc.paths[docPath][verb];
      const schema = operation.responses[String(status)]?.content?.['application/json']?.schema;
      expect([docPath, status, schema ? 'documented' : 'undocumented status']).toEqual([docPath, status, 'documented']);
      expect(mismatches(doc, json, schema!)).toEqual([]);
      return json as Record<string, unknown>;
    };

    const { runId } = await check('post', '/gotick/flows/{flowId}/runs', '/flows/docs%2Ffull/runs', { input: { n: 7 }, runId: 'doc-run' });
    await check('post', '/gotick/flows/{flowId}/runs:batch', '/flows/docs%2Fboom/runs:batch', { runs: [{ runId: 'doc-boom' }, { input: 1 }] });
    await waitUntil(async () => (await call('get', '/runs/doc-run')).json && ((await call('get', '/runs/doc-run')).json as { steps: Array<{ status: string }> }).steps.some((s) => s.status === 'waiting'), 'the run to wait for its signal');
    // A run mid-way: a step with a failed attempt, a sleep, a signal wait.
    const waiting = await check('get', '/gotick/runs/{runId}', `/runs/${String(runId)}`);
    expect((waiting.steps as unknown[]).length).toBe(3);
    await check('post', '/gotick/runs/{runId}/signals/{name}', '/runs/doc-run/signals/go', { payload: { ok: true } });
    await waitUntil(async () => ((await call('get', '/runs/doc-run')).json as { status: string }).status === 'completed', 'the run to complete');
    await waitUntil(async () => ((await call('get', '/runs/doc-boom')).json as { status: string }).status === 'failed', 'the other run to fail');
    const done = await check('get', '/gotick/runs/{runId}', '/runs/doc-run');
    expect(done.output).toEqual({ n: 7, payload: { ok: true } });
    const failed = await check('get', '/gotick/runs/{runId}', '/runs/doc-boom');
    expect(failed.error).toMatchObject({ name: 'StepFailedError', message: expect.stringContaining('always'), stepKey: 'explode' });
    await check('post', '/gotick/runs/{runId}/retry', '/runs/doc-boom/retry');
    await check('post', '/gotick/runs/{runId}/cancel', '/runs/doc-boom/cancel', { reason: 'enough' });
    // A run held back by its flow's concurrency cap: waitingForSlot, in the run and in the list.
    await check('post', '/gotick/flows/{flowId}/runs', '/flows/docs%2Fcapped/runs', { input: { customer: 'c-1', hold: true }, runId: 'doc-holder' });
    await waitUntil(async () => ((await call('get', '/runs/doc-holder')).json as { status: string }).status === 'running', 'the first capped run to hold its slot');
    await check('post', '/gotick/flows/{flowId}/runs', '/flows/docs%2Fcapped/runs', { input: { customer: 'c-1' }, runId: 'doc-in-line' });
    await waitUntil(async () => ((await call('get', '/runs/doc-in-line')).json as { waitingForSlot?: unknown }).waitingForSlot, 'the second capped run to wait in line');
    expect((await check('get', '/gotick/runs/{runId}', '/runs/doc-in-line')).waitingForSlot).toEqual({ key: 'c-1', since: expect.any(String) });
    const inLine = await check('get', '/gotick/runs', '/runs?flowId=docs%2Fcapped');
    expect((inLine.runs as Array<{ runId: string; waitingForSlot?: unknown }>).find((run) => run.runId === 'doc-in-line')!.waitingForSlot).toMatchObject({ key: 'c-1' });
    releaseCapped();
    const page = await check('get', '/gotick/runs', '/runs?limit=2');
    expect(page.nextCursor).toEqual(expect.any(String));
    await check('get', '/gotick/flows', '/flows');
    await check('get', '/gotick/flows/{flowId}/counts', '/flows/docs%2Ffull/counts');

    // Error answers are documented too, with the body they carry.
    await check('get', '/gotick/runs/{runId}', '/runs/no-such-run');
    await check('post', '/gotick/flows/{flowId}/runs', '/flows/no%2Fsuch/runs', {});
    await check('post', '/gotick/flows/{flowId}/runs', '/flows/docs%2Ffull/runs', { runId: 'bad id!' });
    await check('post', '/gotick/runs/{runId}/signals/{name}', '/runs/doc-run/signals/go', {});
    const unauthorised = await fetch(`${base}/flows`);
    expect(unauthorised.status).toBe(401);
    expect(mismatches(doc, await unauthorised.json(), doc.paths['/gotick/flows'].get.responses['401'].content!['application/json'].schema)).toEqual([]);
  });
});
