import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { Flow, GoTickModule, type FlowContext } from '../../lib';
import { listenApp } from '../support/nest-app';
import { startRedis, type TestRedis } from '../support/redis-server';

@Injectable()
class EchoFlows {
  @Flow('echo/input')
  async echo(ctx: FlowContext<unknown>) {
    return ctx.input;
  }
}

const TOKEN = 'input-token';

/** The JSON body of a response, loosely typed for assertions. */
const json = async (response: Response): Promise<any> => response.json();

/** Sends a raw request (exact headers, no content type added) and reads the JSON answer. */
function send(url: string, body: string | undefined, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('content-length', Buffer.byteLength(body));
      req.end(body);
    } else req.end();
  });
}

describe('REST trigger input over a real socket: never a run from a body other than the one sent', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  let counter = 0;

  beforeAll(async () => {
    redis = await startRedis();
    ({ app, base } = await listenApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `hin${process.pid}`, http: { path: 'gotick', token: TOKEN } })],
      providers: [EchoFlows],
    }));
  });
  afterAll(async () => {
    await app.close();
    await redis.stop();
  });

  const trigger = (body: string | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    send(`${base}/flows/echo%2Finput/runs`, body, headers);
  const runExists = async (runId: string) => (await fetch(`${base}/runs/${runId}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status === 200;
  const listCount = async () =>
    (await json(await fetch(`${base}/runs?flowId=echo%2Finput&limit=200`, { headers: { authorization: `Bearer ${TOKEN}` } }))).runs.length;
  const output = async (runId: string): Promise<any> => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      const view = await json(await fetch(`${base}/runs/${runId}`, { headers: { authorization: `Bearer ${TOKEN}` } }));
      if (view.status === 'completed') return view;
    }
    throw new Error(`run ${runId} did not complete`);
  };

  describe('content type', () => {
    it.each([
      ['text/plain', { 'content-type': 'text/plain' }],
      ['text/plain;charset=UTF-8', { 'content-type': 'text/plain;charset=UTF-8' }],
      ['no content type', {} as Record<string, string>],
      ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['application/octet-stream', { 'content-type': 'application/octet-stream' }],
    ])('%s: 415 naming the type, and no run started', async (_name, headers) => {
      const before = await listCount();
      const runId = `ct-${++counter}`;
      const answer = await trigger(JSON.stringify({ input: { a: 1 }, runId }), headers);
      expect(answer.status).toBe(415);
      expect(answer.json.message).toMatch(/must be JSON \(Content-Type: application\/json\)/);
      expect(await runExists(runId)).toBe(false);
      expect(await listCount()).toBe(before);
    });

    it.each(['application/vnd.api+json', 'application/merge-patch+json; charset=utf-8'])('%s is read as JSON: runId and input kept', async (type) => {
      const runId = `plus-${++counter}`;
      const answer = await trigger(JSON.stringify({ input: { a: [1, 2] }, runId }), { 'content-type': type });
      expect(answer.status).toBe(201);
      expect(answer.json).toEqual({ runId, created: true });
      expect((await output(runId)).output).toEqual({ a: [1, 2] });
      // The same runId again is recognised: the idempotency key was read.
      expect((await trigger(JSON.stringify({ runId }), { 'content-type': type })).json).toEqual({ runId, created: false });
    });

    it('a +json body that is not JSON is a 400, not a run', async () => {
      const answer = await trigger('{nope', { 'content-type': 'application/vnd.api+json' });
      expect(answer.status).toBe(400);
      expect(answer.json.message).toMatch(/not valid JSON/);
    });

    it('a trigger with no body at all still starts a run without input', async () => {
      const answer = await trigger(undefined, {});
      expect(answer.status).toBe(201);
      expect(answer.json.created).toBe(true);
    });
  });

  describe('keys "__proto__" and "constructor" in the input', () => {
    it('are kept as data: the run sees exactly the JSON that was sent', async () => {
      const input = '{"__proto__":{"polluted":true},"constructor":{"name":"x"},"nested":[{"__proto__":1,"constructor":"c","prototype":2}]}';
      const runId = `proto-${++counter}`;
      const answer = await trigger(`{"input":${input},"runId":"${runId}"}`);
      expect(answer.status).toBe(201);
      const view = await output(runId);
      expect(JSON.stringify(view.input)).toBe(input);
      expect(JSON.stringify(view.output)).toBe(input);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('as top-level body fields they are refused with 400 naming them', async () => {
      const answer = await trigger('{"input":1,"__proto__":{"runId":"sneaky"},"constructor":1}');
      expect(answer.status).toBe(400);
      expect(answer.json.message).toMatch(/"__proto__", "constructor"/);
    });
  });

  describe('nesting depth (limit 100 levels)', () => {
    const nested = (levels: number) => '{"input":' + '['.repeat(levels - 1) + ']'.repeat(levels - 1) + '}';

    it.each([101, 5_000, 50_000])('a body %i levels deep is a 400 that names the limit', async (levels) => {
      const answer = await trigger(nested(levels));
      expect(answer.status).toBe(400);
      expect(answer.json.message).toMatch(/nested more than 100 levels/);
    });

    it('a body exactly 100 levels deep is accepted and its input kept', async () => {
      const runId = `deep-${++counter}`;
      const body = nested(100).replace(/^\{/, `{"runId":"${runId}",`);
      const answer = await trigger(body);
      expect(answer.status).toBe(201);
      expect(JSON.stringify((await output(runId)).input)).toBe('['.repeat(99) + ']'.repeat(99));
    });
  });
});
