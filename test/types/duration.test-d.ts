// Compile-time checks of the Duration type: every line marked @ts-expect-error must fail to
// compile, every other line must compile. test/types/types.e2e-spec.ts runs tsc over this file.
import {
  asDuration,
  GoTickEngine,
  GoTickModule,
  TickClient,
  type Duration,
  type FlowContext,
  type TickService,
} from 'nestjs-gotick';

export async function durations(ctx: FlowContext, ticks: TickService, fromEnv: string) {
  // Numbers and every unit form the parser reads.
  await ctx.sleep('a', 250);
  await ctx.sleep('b', '500ms');
  await ctx.sleep('c', '3s');
  await ctx.sleep('d', '1.5h');
  await ctx.sleep('e', '2 days');
  await ctx.sleep('f', '1 week');
  await ctx.sleep('g', '10 minutes');
  await ctx.sleep('h', '1y');
  const typed: Duration = '5m';
  await ctx.sleep('i', typed);

  // @ts-expect-error not a duration: the classic typo that used to fail days later, when the line ran
  await ctx.sleep('j', 'soon');
  // @ts-expect-error a unit the parser does not read
  await ctx.sleep('k', '5 fortnights');
  // @ts-expect-error trailing words
  await ctx.sleep('l', '5 mins later');
  // @ts-expect-error a unit without its number
  await ctx.sleep('m', 'ms');
  // @ts-expect-error an unchecked string (an env var) must go through asDuration
  await ctx.sleep('n', fromEnv);
  await ctx.sleep('o', asDuration(fromEnv, 'CLOSE_AFTER'));

  await ticks.trigger('demo/x', {}, { delay: '10m' });
  // @ts-expect-error trigger's delay is a Duration too
  await ticks.trigger('demo/x', {}, { delay: 'later' });
  await ticks.waitForRun('r', { timeout: '30s' });
  // @ts-expect-error so is waitForRun's timeout
  await ticks.waitForRun('r', { timeout: 'a while' });

  await ctx.task('p', () => undefined, { timeout: '30s', backoff: { type: 'exponential', delay: '1s', maxDelay: '1m' } });
  // @ts-expect-error a step timeout
  await ctx.task('q', () => undefined, { timeout: 'thirty seconds' });
  // @ts-expect-error a backoff delay
  await ctx.task('r', () => undefined, { backoff: { type: 'fixed', delay: 'brief' } });
}

export function options() {
  new GoTickEngine({ retention: '7d', worker: { lease: '30s' }, connectTimeout: '10s', shutdownTimeout: 500 });
  // @ts-expect-error retention: 'forever' is not a duration (0 keeps runs forever)
  new GoTickEngine({ retention: 'forever' });
  // @ts-expect-error a lease
  GoTickModule.forRoot({ worker: { lease: 'long' } });
  new TickClient({ baseUrl: 'http://x', timeout: '5s' });
  // @ts-expect-error the client's timeout
  new TickClient({ baseUrl: 'http://x', timeout: 'quick' });
}
