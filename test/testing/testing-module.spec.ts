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

  it('each module gets its own backend and clock', async () => {
    const [a, b] = await Promise.all([compile(), compile()]);
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
});
