import 'reflect-metadata';
import { CanActivate, ExecutionContext, Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Flow, GoTickModule, TickClient, TickClientError, type FlowContext, type GoTickModuleOptions } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';

@Injectable()
class GreetFlows {
  @Flow('greet/hello')
  async hello(ctx: FlowContext<{ name: string }>) {
    return ctx.memo('greeting', () => `hello ${ctx.input.name}`);
  }
}

/** Lets in only requests that carry x-team: ops, as a user's own guard would. */
@Injectable()
class TeamGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest().headers['x-team'] === 'ops';
  }
}

const TOKEN = 's3cret-token';

/** The JSON body of a response, loosely typed for assertions. */
const json = async (response: Response): Promise<any> => response.json();

async function listen(redisUrl: string, prefix: string, http: GoTickModuleOptions['http'], extra: Partial<GoTickModuleOptions> = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [GoTickModule.forRoot({ connection: redisUrl, prefix, http, ...extra })],
    providers: [GreetFlows, TeamGuard],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, base: `${await app.getUrl()}/${http?.path ?? 'gotick'}` };
}

describe('REST routes and TickClient over a real socket', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    redis = await startRedis();
    ({ app, base } = await listen(redis.url, `http${process.pid}`, { path: 'gotick', token: TOKEN }, { limits: { maxPayloadBytes: 2048 } }));
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  const post = (path: string, body: string, headers: Record<string, string> = auth) =>
    fetch(`${base}${path}`, { method: 'POST', headers, body });

  it('triggers a run (201), then reads it, lists it and lists the flows', async () => {
    const created = await post('/flows/greet%2Fhello/runs', JSON.stringify({ input: { name: 'Ada' }, runId: 'greet-1' }));
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ runId: 'greet-1', created: true });

    const client = new TickClient({ baseUrl: base, token: TOKEN });
    const run = await client.waitForRun<{ name: string }, string>('greet-1', { timeout: '10s' });
    expect(run).toMatchObject({ runId: 'greet-1', flowId: 'greet/hello', status: 'completed', output: 'hello Ada', input: { name: 'Ada' } });
    expect(run.steps).toEqual([expect.objectContaining({ key: 'greeting', kind: 'memo', status: 'completed', attempts: 1, result: 'hello Ada' })]);

    const fetched = await fetch(`${base}/runs/greet-1`, { headers: auth });
    expect(fetched.status).toBe(200);
    expect((await json(fetched)).output).toBe('hello Ada');

    const list = await fetch(`${base}/runs?flowId=greet%2Fhello&status=completed&limit=5`, { headers: auth });
    expect(list.status).toBe(200);
    expect((await json(list)).runs.map((r: { runId: string }) => r.runId)).toContain('greet-1');

    const flows = await fetch(`${base}/flows`, { headers: auth });
    expect(await flows.json()).toEqual({ flows: [{ id: 'greet/hello' }] });
  });

  it('answers 401 without a token or with a wrong one', async () => {
    expect((await fetch(`${base}/flows`)).status).toBe(401);
    expect((await fetch(`${base}/flows`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const noToken = await post('/flows/greet%2Fhello/runs', '{}', { 'content-type': 'application/json' });
    expect(noToken.status).toBe(401);
  });

  it('answers 404 for an unknown flow or run', async () => {
    const unknownFlow = await post('/flows/no%2Fsuch/runs', '{}');
    expect(unknownFlow.status).toBe(404);
    expect((await json(unknownFlow)).message).toContain('Unknown flow "no/such"');
    expect((await fetch(`${base}/runs/no-such-run`, { headers: auth })).status).toBe(404);
  });

  it('answers 400 naming the field for malformed or invalid bodies', async () => {
    expect((await post('/flows/greet%2Fhello/runs', '{"input": ')).status).toBe(400);
    const badDelay = await post('/flows/greet%2Fhello/runs', JSON.stringify({ delay: 'soon' }));
    expect(badDelay.status).toBe(400);
    expect(JSON.stringify(await badDelay.json())).toContain('delay');
    const badRunId = await post('/flows/greet%2Fhello/runs', JSON.stringify({ runId: 'has spaces' }));
    expect(badRunId.status).toBe(400);
    expect(JSON.stringify(await badRunId.json())).toContain('runId');
    const unknownField = await post('/flows/greet%2Fhello/runs', JSON.stringify({ inptu: {} }));
    expect(unknownField.status).toBe(400);
    expect(JSON.stringify(await unknownField.json())).toContain('inptu');
    const badLimit = await fetch(`${base}/runs?limit=5000`, { headers: auth });
    expect(badLimit.status).toBe(400);
    expect(JSON.stringify(await badLimit.json())).toContain('limit');
  });

  it('answers 413 for an input over the payload limit, and stores nothing', async () => {
    const big = await post('/flows/greet%2Fhello/runs', JSON.stringify({ input: { name: 'x'.repeat(5000) }, runId: 'too-big' }));
    expect(big.status).toBe(413);
    expect((await fetch(`${base}/runs/too-big`, { headers: auth })).status).toBe(404);
    // Past the HTTP body limit (Nest's default 100 KB), the body parser refuses before the route runs.
    const huge = await post('/flows/greet%2Fhello/runs', JSON.stringify({ input: 'y'.repeat(200_000) }));
    expect(huge.status).toBe(413);
  });

  it('never puts a stack trace in an error response', async () => {
    const body = await (await post('/flows/no%2Fsuch/runs', '{}')).text();
    expect(body).not.toMatch(/\bat .+\.(ts|js):\d+/);
  });

  it('gives TickClient errors that carry the HTTP status and message', async () => {
    const client = new TickClient({ baseUrl: base, token: TOKEN });
    expect(await client.getRun('missing')).toBeNull();
    await expect(client.trigger('no/such')).rejects.toMatchObject({ status: 404, message: expect.stringContaining('Unknown flow') });
    const anonymous = new TickClient({ baseUrl: base });
    const error = await anonymous.listRuns().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TickClientError);
    expect((error as TickClientError).status).toBe(401);
    const { runId } = await client.trigger('greet/hello', { name: 'Bob' });
    expect((await client.waitForRun(runId)).output).toBe('hello Bob');
    expect(await client.listFlows()).toEqual(['greet/hello']);
  });

  it('mounts the routes from forRootAsync, with the token coming from the factory', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        GoTickModule.forRootAsync({
          useFactory: async () => ({ connection: redis.url, prefix: `async${process.pid}`, http: { token: 'from-factory' } }),
          http: { path: 'async-gotick' },
        }),
      ],
      providers: [GreetFlows],
    }).compile();
    const asyncApp = moduleRef.createNestApplication({ logger: false });
    await asyncApp.listen(0, '127.0.0.1');
    try {
      const url = `${await asyncApp.getUrl()}/async-gotick/flows`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer from-factory' } })).status).toBe(200);
    } finally {
      await asyncApp.close();
    }
  });

  it('uses a Nest guard instead of a token when one is configured', async () => {
    const guarded = await listen(redis.url, `guard${process.pid}`, { path: 'ops/gotick', guard: TeamGuard });
    try {
      expect((await fetch(`${guarded.base}/flows`)).status).toBe(403);
      expect((await fetch(`${guarded.base}/flows`, { headers: { 'x-team': 'ops' } })).status).toBe(200);
    } finally {
      await guarded.app.close();
    }
  });
});
