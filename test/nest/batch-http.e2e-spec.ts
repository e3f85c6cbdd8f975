import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Flow, GoTickModule, TickClient, TickClientError, type FlowContext } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';

@Injectable()
class EchoFlows {
  @Flow('mail/echo')
  async echo(ctx: FlowContext<unknown>) {
    return ctx.input;
  }
}

const TOKEN = 'batch-token';

describe('POST /flows/:flowId/runs:batch over a real socket', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  let client: TickClient;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    redis = await startRedis();
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `batch${process.pid}`, http: { path: 'gotick', token: TOKEN } })],
      providers: [EchoFlows],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/gotick`;
    client = new TickClient({ baseUrl: base, token: TOKEN });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('201 { runs } in the order sent, idempotent per runId; inputs arrive as sent', async () => {
    const runs = [{ input: { a: 1 }, runId: 'b-1' }, { input: 'two', runId: 'b-2' }, { input: JSON.parse('{"__proto__":{"x":1},"constructor":2}') }];
    const sent = await fetch(`${base}/flows/mail%2Fecho/runs:batch`, { method: 'POST', headers, body: JSON.stringify({ runs }) });
    expect(sent.status).toBe(201);
    const body = (await sent.json()) as { runs: Array<{ runId: string; created: boolean }> };
    expect(body.runs.slice(0, 2)).toEqual([{ runId: 'b-1', created: true }, { runId: 'b-2', created: true }]);
    expect(body.runs[2].created).toBe(true);
    const outputs = await Promise.all(body.runs.map((r) => client.waitForRun(r.runId, { timeout: '10s' })));
    expect(outputs[0].output).toEqual({ a: 1 });
    expect(outputs[1].output).toBe('two');
    expect(Object.keys(outputs[2].output as object)).toEqual(['__proto__', 'constructor']);

    const again = await client.triggerMany('mail/echo', [{ input: 0, runId: 'b-1' }, { input: 3, runId: 'b-3', delay: '1h' as const }]);
    expect(again).toEqual([{ runId: 'b-1', created: false }, { runId: 'b-3', created: true }]);
    expect((await client.getRun('b-3'))!.status).toBe('queued');
  });

  it('1,000 items are taken, 1,001 answer 413 and start nothing', async () => {
    const thousand = Array.from({ length: 1000 }, (_, i) => ({ input: i, runId: `k-${i}`, delay: '1h' as const }));
    const ok = await client.triggerMany('mail/echo', thousand);
    expect(ok.filter((r) => r.created)).toHaveLength(1000);
    const over = Array.from({ length: 1001 }, (_, i) => ({ input: i, runId: `o-${i}` }));
    const refused = await client.triggerMany('mail/echo', over).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TickClientError);
    expect((refused as TickClientError).status).toBe(413);
    expect((refused as TickClientError).message).toMatch(/at most 1000 runs/);
    expect(await client.getRun('o-0')).toBeNull();
  });

  it('400 for a body that is not { runs: [...] }, an item with unknown fields, a bad runId, a bad shared delay; 404 for an unknown flow', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [[{ input: 1 }], /must be \{ "runs"/],
      [{ runs: 'x' }, /must be \{ "runs"/],
      [{ runs: [{ input: 1 }, 7] }, /runs\[1\] must be an object/],
      [{ runs: [{ inptu: 1 }] }, /runs\[0\] has unknown field\(s\) "inptu"/],
      [{ runs: [{ runId: 'ok' }, { runId: 'not ok' }] }, /item 1/],
      [{ runs: [], delay: 'soon' }, /delay/],
      [{ runs: [], extra: 1 }, /extra/],
    ];
    for (const [body, message] of cases) {
      const res = await post('/flows/mail%2Fecho/runs:batch', body);
      const { message: said } = (await res.json()) as { message: string | string[] };
      expect([res.status, String(said)]).toEqual([400, expect.stringMatching(message)]);
    }
    expect(await client.getRun('ok')).toBeNull();
    const unknown = await post('/flows/mail%2Fnope/runs:batch', { runs: [{}] });
    expect(unknown.status).toBe(404);
    const unauthorized = await fetch(`${base}/flows/mail%2Fecho/runs:batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"runs":[]}' });
    expect(unauthorized.status).toBe(401);
  });
});
