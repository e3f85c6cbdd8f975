import { Injectable, Logger } from '@nestjs/common';
import { asDuration, Flow, OnFlowFail, type FlowContext, type FlowFailure } from 'nestjs-gotick';
import { OrderService } from './order.service';

export const CLOSE_ORDER = 'demo/close-order';

/** GoTick's first example: close an order 3 s after it was created, surviving restarts. */
@Injectable()
export class OrderFlows {
  private readonly logger = new Logger(OrderFlows.name);

  constructor(private readonly orders: OrderService) {}

  @Flow(CLOSE_ORDER)
  async closeOrder(ctx: FlowContext<{ orderId: string }>) {
    const startAt = await ctx.memo('start_at', () => new Date());
    await ctx.sleep('wait-close', asDuration(process.env.CLOSE_AFTER ?? '3s', 'CLOSE_AFTER'));
    await ctx.task('close-order', () => {
      this.orders.close(ctx.input.orderId);
      this.logger.log(`close-order ${ctx.input.orderId} at +${Date.now() - startAt.getTime()} ms`);
    });
    return { closedAfterMs: Date.now() - startAt.getTime() };
  }

  @OnFlowFail(CLOSE_ORDER)
  onFail(ctx: FlowContext<{ orderId: string }>, failure: FlowFailure) {
    this.logger.error(`Could not close order ${ctx.input.orderId}: ${failure.error.message}`);
  }
}
