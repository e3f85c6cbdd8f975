import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { defineFlow, Flow, GoTickModule, OnFlowSuccess, TickService, UnknownFlowError, type FlowContext, type FlowHookContext } from '../../lib';
import { bootApp } from '../support/nest-app';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

const Greet = defineFlow<{ name: string }, { greeting: string }>('typed/greet');
const Tick = defineFlow('typed/tick');

@Injectable()
class TypedFlows {
  @Flow(Greet)
  async greet(ctx: FlowContext<{ name: string }>) {
    const greeting = await ctx.memo('greet', () => `hello ${ctx.input.name}`);
    return { greeting };
  }

  readonly greeted: string[] = [];

  // A hook names its flow by reference, like @Flow does.
  @OnFlowSuccess(Greet)
  onGreeted(ctx: FlowHookContext<{ name: string }>) {
    this.greeted.push(ctx.input.name);
  }

  @Flow(Tick, { defaults: { retries: 0 } })
  async tick() {
    return 'tock';
  }
}

describe('typed flow references', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it('register under their id and run through trigger(ref) and waitForRun(result)', async () => {
    const app = await bootApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `typed${process.pid}` })],
      providers: [TypedFlows],
    });
    try {
      const ticks = app.get(TickService);
      expect(await ticks.listFlows()).toEqual(['typed/greet', 'typed/tick']);
      const started = await ticks.trigger(Greet, { name: 'Ada' });
      const run = await ticks.waitForRun(started, { timeout: '10s' });
      expect(run.output?.greeting).toBe('hello Ada');
      // The hook runs just after the run is recorded completed, so it is polled for, not assumed.
      await waitUntil(() => app.get(TypedFlows).greeted.length > 0, 'the OnFlowSuccess(Greet) hook');
      expect(app.get(TypedFlows).greeted).toEqual(['Ada']);
      expect((await ticks.waitForRun(await ticks.trigger(Tick), { timeout: '10s' })).output).toBe('tock');
      // The string form reaches the same flow.
      expect((await ticks.trigger('typed/greet', { name: 'Bo' })).created).toBe(true);
      await expect(ticks.trigger(defineFlow<void>('typed/missing'))).rejects.toBeInstanceOf(UnknownFlowError);
    } finally {
      await app.close();
    }
  });
});
