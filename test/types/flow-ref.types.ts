/**
 * Compile-time checks, run by `npm run typecheck` (CI): each `@ts-expect-error`
 * line must fail to compile, and every other line must compile.
 */
import { Injectable } from '@nestjs/common';
import { defineFlow, Flow, type FlowContext, type GoTickApi, type RunView } from '../../lib';

const CloseOrder = defineFlow<{ orderId: string }, { closedAfterMs: number }>('orders/close');
const Ping = defineFlow('ping');

@Injectable()
export class TypedFlows {
  @Flow(CloseOrder)
  async close(ctx: FlowContext<{ orderId: string }>) {
    return { closedAfterMs: ctx.input.orderId.length };
  }

  // @ts-expect-error the method's input type does not match the reference's
  @Flow(CloseOrder)
  async wrongInput(ctx: FlowContext<{ orderID: string }>) {
    return { closedAfterMs: ctx.input.orderID.length };
  }

  // @ts-expect-error the method's output does not match the reference's
  @Flow(CloseOrder)
  async wrongOutput(_ctx: FlowContext<{ orderId: string }>) {
    return { closed: true };
  }

  @Flow(CloseOrder, { schedule: { cron: '0 6 * * *', input: { orderId: 'nightly' } } })
  async scheduled(ctx: FlowContext<{ orderId: string }>) {
    return { closedAfterMs: ctx.input.orderId.length };
  }

  // @ts-expect-error a schedule's input follows the reference's input type
  @Flow(CloseOrder, { schedule: { every: '1h', input: { orderID: 'nightly' } } })
  async scheduledWrongInput(ctx: FlowContext<{ orderId: string }>) {
    return { closedAfterMs: ctx.input.orderId.length };
  }

  @Flow('untyped/by-id')
  async byId(ctx: FlowContext) {
    return ctx.input;
  }
}

export async function callers(ticks: GoTickApi): Promise<void> {
  const started = await ticks.trigger(CloseOrder, { orderId: 'o-1' });
  const run: RunView<{ orderId: string }, { closedAfterMs: number }> = await ticks.waitForRun(started);
  const ms: number | undefined = run.output?.closedAfterMs;
  void ms;
  await ticks.trigger(Ping); // a void input may be left out
  const many = await ticks.triggerMany(CloseOrder, [{ input: { orderId: 'o-2' }, runId: 'close-o-2' }], { delay: '1m' });
  const first: RunView<{ orderId: string }, { closedAfterMs: number }> = await ticks.waitForRun(many[0]);
  void first;
  // @ts-expect-error a batch item's input follows the flow
  await ticks.triggerMany(CloseOrder, [{ input: { orderID: 'o-2' } }]);

  // @ts-expect-error a misspelt input field
  await ticks.trigger(CloseOrder, { orderID: 'o-1' });
  // @ts-expect-error the input is required
  await ticks.trigger(CloseOrder);
  // @ts-expect-error the output type follows the flow
  const wrong: RunView<unknown, string> = await ticks.waitForRun(started);
  void wrong;

  await ticks.schedule('nightly-close', CloseOrder, { cron: '0 2 * * *', tz: 'Europe/Berlin', input: { orderId: 'o-3' } });
  // @ts-expect-error a schedule's input follows the flow
  await ticks.schedule('nightly-close', CloseOrder, { every: '1d', input: { orderID: 'o-3' } });
  // @ts-expect-error an interval is a Duration
  await ticks.schedule('nightly-close', 'orders/close', { every: 'nightly' });

  // The string forms keep working, untyped.
  const loose = await ticks.trigger('orders/close', { anything: true });
  await ticks.waitForRun(loose.runId);
}

/** ctx.child and ctx.startChild take a reference the way trigger does. */
export async function children(ctx: FlowContext): Promise<void> {
  const out: { closedAfterMs: number } = await ctx.child('close', CloseOrder, { orderId: 'o-1' }, { timeout: '5m' });
  void out;
  const pinged: unknown = await ctx.child('ping', Ping); // a void input may be left out
  void pinged;
  const id: string = await ctx.startChild('close-later', CloseOrder, { orderId: 'o-2' });
  void id;
  // @ts-expect-error a misspelt child input field
  await ctx.child('bad', CloseOrder, { orderID: 'o-1' });
  // @ts-expect-error the child's output type follows the flow
  const wrong: string = await ctx.child('bad-out', CloseOrder, { orderId: 'o-1' });
  void wrong;
  // @ts-expect-error startChild checks the input too
  await ctx.startChild('bad-start', CloseOrder, { orderID: 'o-1' });
  // @ts-expect-error not a Duration
  await ctx.child('bad-timeout', CloseOrder, { orderId: 'o-1' }, { timeout: 'soon' });
  // The string form stays open.
  const loose = await ctx.child<number>('loose', 'orders/close', { anything: true });
  void loose;
}
