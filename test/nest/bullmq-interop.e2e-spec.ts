import 'reflect-metadata';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Job, Queue } from 'bullmq';
import { Flow, GOTICK_QUEUE, GoTickModule, goTickQueueName, TickService, type FlowContext } from '../../lib';
import type { GoTickEngine } from '../../lib/engine';
import { GOTICK_ENGINE } from '../../lib/nest/gotick.constants';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

// The app names its own queue "runs": the BullMQ name GoTick's queue has too, the worst case for a clash.
const APP_QUEUE = 'runs';

@Processor(APP_QUEUE)
class AppWorker extends WorkerHost {
  readonly seen: unknown[] = [];
  async process(job: Job): Promise<string> {
    this.seen.push(job.data);
    return 'done';
  }
}

@Injectable()
class Flows {
  @Flow('interop/echo')
  async echo(ctx: FlowContext<string>) {
    return ctx.memo('echo', () => `echo ${ctx.input}`);
  }
}

/** What the app injects: its own queue and GoTick's, side by side. */
@Injectable()
class Queues {
  constructor(
    @InjectQueue(APP_QUEUE) readonly app: Queue,
    @InjectQueue(GOTICK_QUEUE) readonly gotick: Queue,
  ) {}
}

describe('GoTick beside an app that uses @nestjs/bullmq and Bull Board', () => {
  let appRedis: TestRedis;
  let gotickRedis: TestRedis;
  let app: INestApplication;
  let url: string;
  const prefix = `interop${process.pid}`;

  beforeAll(async () => {
    // Two servers: the app's default BullModule connection must not become GoTick's, nor the reverse.
    [appRedis, gotickRedis] = await Promise.all([startRedis(), startRedis()]);
    @Module({
      imports: [
        BullModule.forRoot({ connection: { host: '127.0.0.1', port: appRedis.port } }),
        BullModule.registerQueue({ name: APP_QUEUE }),
        GoTickModule.forRoot({ connection: gotickRedis.url, prefix }),
        // The cast: @bull-board/express 9.10.1 is typed against @bull-board/api 9.10.1, the Nest module against 9.10.2.
        BullBoardModule.forRoot({ route: '/queues', adapter: ExpressAdapter as never }),
        BullBoardModule.forFeature(
          { name: APP_QUEUE, adapter: BullMQAdapter },
          // Bull Board keys queues by name; the display prefix keeps two "runs" apart.
          { name: GOTICK_QUEUE, adapter: BullMQAdapter, options: { prefix: 'gotick/' } },
        ),
      ],
      providers: [AppWorker, Flows, Queues],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([appRedis?.stop(), gotickRedis?.stop()]);
  });

  it('@InjectQueue(GOTICK_QUEUE) gives the queue GoTick enqueues runs on, on GoTick\'s connection and prefix', async () => {
    const { gotick, app: own } = app.get(Queues);
    expect(gotick).not.toBe(own);
    expect([gotick.name, gotick.opts.prefix]).toEqual(['runs', prefix]);
    // Made on the connection runs are written on: a run's job can never reach Redis before the run.
    expect(gotick.opts.connection).toBe(app.get<GoTickEngine>(GOTICK_ENGINE).queueConnection());
    expect(goTickQueueName(0)).toBe(GOTICK_QUEUE);
    // A delayed run's job is visible through the injected queue: it is the engine's own.
    const { runId } = await app.get(TickService).trigger('interop/echo', 'later', { delay: '1h' });
    const job = await gotick.getJob(`t-${runId}`);
    expect(job?.data).toMatchObject({ runId });
    expect(await gotick.getDelayedCount()).toBe(1);
    expect(await gotickRedis.client.exists(`${prefix}:runs:t-${runId}`)).toBe(1);
    // Nothing of GoTick's went to the app's Redis.
    expect(await appRedis.client.keys(`${prefix}*`)).toEqual([]);
  });

  it('the app\'s own queue and GoTick both work, each on its own Redis', async () => {
    const { app: own } = app.get(Queues);
    await own.add('greet', { hello: 'world' });
    const worker = app.get(AppWorker);
    await waitUntil(() => worker.seen.length === 1, "the app's processor to take its job");
    expect(worker.seen).toEqual([{ hello: 'world' }]);
    expect(await appRedis.client.exists('bull:runs:meta')).toBe(1);
    expect(await gotickRedis.client.exists('bull:runs:meta')).toBe(0);

    const ticks = app.get(TickService);
    const run = await ticks.trigger('interop/echo', 'now');
    expect((await ticks.waitForRun(run, { timeout: '10s' })).output).toBe('echo now');
    // 300 at once through the registered queue: each run taken once, none before it existed.
    const many = await Promise.all(Array.from({ length: 300 }, (_, i) => ticks.trigger('interop/echo', `m${i}`)));
    const views = await Promise.all(many.map((one) => ticks.waitForRun(one, { timeout: '30s' })));
    expect(views.filter((view) => view.status !== 'completed' || view.executions !== 1)).toEqual([]);
    // The app's processor never saw GoTick's job, and GoTick never took the app's.
    expect(worker.seen).toHaveLength(1);
  });

  it("Bull Board's API lists both queues, with GoTick's jobs under GoTick's", async () => {
    const response = await fetch(`${url}/queues/api/queues?activeQueue=gotick/runs&status=delayed`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { queues: Array<{ name: string; counts: Record<string, number>; jobs: Array<{ data: { runId?: string } }> }> };
    const names = body.queues.map((queue) => queue.name).sort();
    expect(names).toEqual(['gotick/runs', 'runs']);
    const gotick = body.queues.find((queue) => queue.name === 'gotick/runs')!;
    expect(gotick.counts.delayed).toBe(1);
    expect(gotick.jobs[0].data.runId).toEqual(expect.any(String));
    const own = body.queues.find((queue) => queue.name === 'runs')!;
    expect(own.counts.completed).toBe(1);
  });
});

describe('GoTick queues with partitions', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('registers one queue per partition under goTickQueueName(i), each the engine\'s own', async () => {
    const prefix = `parts${process.pid}`;
    @Injectable()
    class PartitionQueues {
      constructor(
        @InjectQueue(goTickQueueName(0)) readonly p0: Queue,
        @InjectQueue(goTickQueueName(1)) readonly p1: Queue,
        @InjectQueue(goTickQueueName(2)) readonly p2: Queue,
      ) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix, partitions: 3 })],
      providers: [Flows, PartitionQueues],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const queues = app.get(PartitionQueues);
      expect([queues.p0, queues.p1, queues.p2].map((queue) => queue.opts.prefix)).toEqual([`{${prefix}:p0}`, `{${prefix}:p1}`, `{${prefix}:p2}`]);
      const ticks = app.get(TickService);
      const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => ticks.trigger('interop/echo', `n${i}`, { delay: '1h' })));
      const delayed = await Promise.all([queues.p0, queues.p1, queues.p2].map((queue) => queue.getDelayedCount()));
      // Every run's job is in exactly one of the injected queues.
      expect(delayed.reduce((a, b) => a + b, 0)).toBe(runs.length);
    } finally {
      await app.close();
    }
  });

  it.each([
    [undefined, 2],
    [3, 2],
    [2, 1],
  ])('with forRootAsync, partitions %s beside a factory that says %s stops bootstrap naming the fix, before connecting', async (registered, wanted) => {
    const clientsBefore = Number(/connected_clients:(\d+)/.exec(await redis.client.info('clients'))![1]);
    const moduleRef = Test.createTestingModule({
      imports: [GoTickModule.forRootAsync({ partitions: registered, useFactory: () => ({ connection: redis.url, prefix: `async${process.pid}`, partitions: wanted }) })],
    }).compile();
    await expect(moduleRef).rejects.toThrow(
      `GoTick's options say partitions: ${wanted}, but the module registered ${registered ?? 1} queue(s) before its factory ran: with forRootAsync, pass partitions: ${wanted} next to useFactory as well.`,
    );
    expect(Number(/connected_clients:(\d+)/.exec(await redis.client.info('clients'))![1])).toBe(clientsBefore);
  });

  it('with forRootAsync and partitions next to useFactory, registers them all', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickModule.forRootAsync({ partitions: 2, useFactory: () => ({ connection: redis.url, prefix: `async2${process.pid}`, partitions: 2 }) })],
      providers: [Flows],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      expect(app.get<Queue>(`BullQueue_${goTickQueueName(1)}`).opts.prefix).toBe(`{async2${process.pid}:p1}`);
      const ticks = app.get(TickService);
      const run = await ticks.trigger('interop/echo', 'async');
      expect((await ticks.waitForRun(run, { timeout: '10s' })).output).toBe('echo async');
    } finally {
      await app.close();
    }
  });
});
