import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Flow, GoTickModule, type FlowContext } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';
import { startReplyDroppingProxy, type ReplyDroppingProxy } from '../support/reply-dropping-proxy';

@Injectable()
class EchoFlows {
  @Flow('echo')
  async echo(ctx: FlowContext<unknown>) {
    return ctx.input;
  }
}

const TOKEN = 'oom-token';
const PREFIX = `oom${process.pid}`;
const json = async (response: Response): Promise<any> => response.json();

/** Redis at its maxmemory with noeviction: writes are refused with "OOM command not allowed". */
describe('a trigger while Redis is out of memory', () => {
  let redis: TestRedis;
  let proxy: ReplyDroppingProxy;
  let app: INestApplication;
  let base: string;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const trigger = (runId: string) =>
    fetch(`${base}/flows/echo/runs`, { method: 'POST', headers, body: JSON.stringify({ runId, input: { order: 7 } }) });

  /**
   * Puts Redis at its limit at an exact moment: with maxmemory below what it
   * already uses, every write is refused, whatever else the machine is doing
   * (filling memory up instead raced with buffers freed under load).
   */
  async function fillRedis(): Promise<void> {
    await redis.client.config('SET', 'maxmemory', '1');
    await expect(redis.client.set('probe', 'x')).rejects.toThrow(/^OOM /);
  }
  async function freeRedis(): Promise<void> {
    await redis.client.config('SET', 'maxmemory', '16mb');
  }

  beforeAll(async () => {
    redis = await startRedis(['--maxmemory', '16mb']);
    // The proxy lets the test fill Redis at an exact moment: between writing a run and enqueueing its job.
    proxy = await startReplyDroppingProxy(redis.port);
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickModule.forRoot({ connection: proxy.url, prefix: PREFIX, worker: false, http: { path: 'gotick', token: TOKEN } })],
      providers: [EchoFlows],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    base = `${await app.getUrl()}/gotick`;
  });
  afterEach(() => freeRedis());
  afterAll(async () => {
    await app.close();
    await proxy.close();
    await redis.stop();
  });

  it('answers 503 RedisOutOfMemoryError naming the runId, writes nothing, and works again once memory is freed', async () => {
    await fillRedis();
    const refused = await trigger('oom-before-write');
    expect(refused.status).toBe(503);
    const body = await json(refused);
    expect(body).toMatchObject({ statusCode: 503, error: 'RedisOutOfMemoryError', runId: 'oom-before-write' });
    expect(body.message).toMatch(/out of memory/);
    expect(body.message).toMatch(/maxmemory/);
    // Reads still work at maxmemory: the run was not written.
    expect((await fetch(`${base}/runs/oom-before-write`, { headers })).status).toBe(404);

    await freeRedis();
    const retried = await trigger('oom-before-write');
    expect(retried.status).toBe(201);
    expect(await json(retried)).toEqual({ runId: 'oom-before-write', created: true });
  });

  it('a trigger that fails after writing its run says so with the runId; retrying with it enqueues the run once', async () => {
    const runId = 'oom-after-write';
    // BullMQ's add carries the job data {"runId":...}: hold it until Redis is full, after the run was written.
    const enqueue = proxy.beforeCommand((args) => /^eval/i.test(args[0] ?? '') && args.some((arg) => arg.includes(`"runId":"${runId}"`)), fillRedis);
    const refused = await trigger(runId);
    await enqueue;
    expect(refused.status).toBe(503);
    expect(await json(refused)).toMatchObject({ error: 'RedisOutOfMemoryError', runId });
    // The error does not prove nothing was written: the run is there, queued.
    const written = await fetch(`${base}/runs/${runId}`, { headers });
    expect(written.status).toBe(200);
    expect(await json(written)).toMatchObject({ runId, status: 'queued' });
    expect(await redis.client.exists(`${PREFIX}:runs:t-${runId}`)).toBe(0);

    await freeRedis();
    const retried = await trigger(runId);
    expect(retried.status).toBe(201);
    expect(await json(retried)).toEqual({ runId, created: false });
    expect(await redis.client.exists(`${PREFIX}:runs:t-${runId}`)).toBe(1);
  });
});
