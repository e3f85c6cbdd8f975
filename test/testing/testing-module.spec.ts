import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { defineFlow, Flow, OnFlowCancel, OnFlowFail, OnFlowSuccess, TickService, type FlowContext, type FlowFailure } from '../../lib';
import { GoTickTestHarness, GoTickTestingModule } from '../../lib/testing';

const Greet = defineFlow<{ name: string }, string>('kit/greet');

@Injectable()
class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@Injectable()
class GreetFlows {
  readonly events: string[] = [];

  constructor(private readonly greeter: Greeter) {}

  @Flow(Greet, { defaults: { retries: 0 } })
  async run(ctx: FlowContext<{ name: string }>): Promise<string> {
    await ctx.sleep('pause', '1d');
    return ctx.memo('greeting', () => this.greeter.greet(ctx.input.name));
  }

  @OnFlowSuccess(Greet.id)
  succeeded(_ctx: FlowContext, output: unknown) {
    this.events.push(`success ${String(output)}`);
  }

  @OnFlowFail(Greet.id)
  failed(_ctx: FlowContext, failure: FlowFailure) {
    this.events.push(`fail ${failure.error.message}`);
  }

  @OnFlowCancel(Greet.id)
  cancelled() {
    this.events.push('cancel');
  }
}

describe('GoTickTestingModule', () => {
  const compile = () =>
    Test.createTestingModule({ imports: [GoTickTestingModule.forRoot({ logLevel: 'silent' })], providers: [GreetFlows, Greeter] }).compile();

  it('discovers @Flow providers and their hooks as GoTickModule does, and TickService drives the same engine', async () => {
    const moduleRef = await compile();
    await moduleRef.init();
    try {
      const gotick = moduleRef.get(GoTickTestHarness);
      const ticks = moduleRef.get(TickService);
      const flows = moduleRef.get(GreetFlows);
      expect(await gotick.listFlows()).toEqual(['kit/greet']);
      const { runId } = await ticks.trigger(Greet, { name: 'Ada' });
      await gotick.advance('1d');
      expect((await ticks.getRun(runId))!.output).toBe('hello Ada');
      expect(flows.events).toEqual(['success hello Ada']);

      const second = await gotick.trigger(Greet, { name: 'Bob' });
      await gotick.runUntilIdle();
      await ticks.cancel(second.runId);
      expect(flows.events).toEqual(['success hello Ada', 'cancel']);
    } finally {
      await moduleRef.close();
    }
  });

  it('mocks a step of a decorated flow; failures reach @OnFlowFail', async () => {
    const moduleRef = await compile();
    await moduleRef.init();
    try {
      const gotick = moduleRef.get(GoTickTestHarness);
      gotick.mockStep(Greet, 'greeting', () => {
        throw new Error('greeter down');
      });
      const { runId } = await gotick.trigger(Greet, { name: 'Cy' });
      const run = await gotick.waitForRun(runId, { timeout: '2d' });
      expect(run.status).toBe('failed');
      expect(moduleRef.get(GreetFlows).events).toEqual([expect.stringMatching(/^fail .*greeter down/)]);
    } finally {
      await moduleRef.close();
    }
  });

  it('each compiled module gets its own backend and clock, also from one reused forRoot()', async () => {
    const shared = GoTickTestingModule.forRoot({ logLevel: 'silent' });
    const compileShared = () => Test.createTestingModule({ imports: [shared], providers: [GreetFlows, Greeter] }).compile();
    const [a, b] = await Promise.all([compileShared(), compileShared()]);
    await Promise.all([a.init(), b.init()]);
    try {
      const ga = a.get(GoTickTestHarness);
      const gb = b.get(GoTickTestHarness);
      const { runId } = await ga.trigger(Greet, { name: 'Dee' });
      await ga.advance('2d');
      expect(await gb.getRun(runId)).toBeNull();
      expect(gb.now()).toBeLessThan(ga.now());
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('mounts the REST routes with `http`, over a real socket, on the memory backend', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickTestingModule.forRoot({ logLevel: 'silent', http: { path: 'gotick', token: 'secret' } })],
      providers: [GreetFlows, Greeter],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const base = `${await app.getUrl()}/gotick`;
      const headers = { authorization: 'Bearer secret', 'content-type': 'application/json' };
      const created = await fetch(`${base}/flows/kit%2Fgreet/runs`, { method: 'POST', headers, body: JSON.stringify({ input: { name: 'Eve' } }) });
      expect(created.status).toBe(201);
      const { runId } = (await created.json()) as { runId: string };
      await app.get(GoTickTestHarness).advance('1d');
      const run = await fetch(`${base}/runs/${runId}`, { headers });
      expect(await run.json()).toMatchObject({ runId, status: 'completed', output: 'hello Eve' });
      expect((await fetch(`${base}/runs/${runId}`)).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('a @Flow schedule and concurrency cap work through Nest on the memory backend; TickService.schedule too', async () => {
    const started: string[] = [];
    @Injectable()
    class NightlyFlows {
      @Flow('kit/nightly', { schedule: { cron: '0 3 * * *', tz: 'UTC' }, concurrency: 1 })
      async run(ctx: FlowContext): Promise<void> {
        await ctx.task('note', () => void started.push(ctx.runId));
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickTestingModule.forRoot({ logLevel: 'silent', startAt: new Date('2025-03-01T00:00:00Z') })],
      providers: [NightlyFlows],
    }).compile();
    await moduleRef.init();
    try {
      const gotick = moduleRef.get(GoTickTestHarness);
      await moduleRef.get(TickService).schedule('kit-hourly', 'kit/nightly', { every: '1h', overlap: 'allow' });
      await gotick.advance('1d');
      const slots = (await gotick.listRuns({ flowId: 'kit/nightly', limit: 100 })).runs.map((run) => `${run.scheduleId} ${run.slotAt} ${run.status}`);
      // Hourly from 00:00 (the clock starts on a slot, which fires at once) through 24:00, and the nightly slot.
      expect(slots).toHaveLength(26);
      expect(slots).toContain('kit/nightly 2025-03-01T03:00:00.000Z completed');
      expect(slots.filter((slot) => slot.startsWith('kit-hourly')).every((slot) => slot.endsWith('completed'))).toBe(true);
      expect(started).toHaveLength(26);
    } finally {
      await moduleRef.close();
    }
  });
});
