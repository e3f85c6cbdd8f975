import { Injectable, Logger } from '@nestjs/common';
import { asDuration, Flow, OnFlowFail, type FlowContext, type FlowFailure } from 'nestjs-gotick';
import { OrderService } from './order.service';
import { ChargePayment } from './payment.flows';

export const ORDER_PAYMENT = 'orders/await-payment';

/** The signal POST /orders/:id/pay sends to the order's run. */
export const PAYMENT_SIGNAL = 'payment';

/** The run of an order: one per order, so a retried POST never starts two. */
export const orderRunId = (orderId: string): string => `order-${orderId}`;

export interface Payment {
  amount: number;
}

/**
 * GoTick's classic: an order is closed 30 minutes after it was created,
 * unless it was paid first (then the payment child flow charges it). The wait holds no worker; a restart, a deploy or
 * a crash in between changes nothing; a payment that arrives while the run
 * is on its way to the wait is kept for it.
 */
@Injectable()
export class OrderFlows {
  private readonly logger = new Logger(OrderFlows.name);

  constructor(private readonly orders: OrderService) {}

  @Flow(ORDER_PAYMENT)
  async awaitPayment(ctx: FlowContext<{ orderId: string }>) {
    const { orderId } = ctx.input;
    const payment = await ctx.waitForSignal<Payment>('payment', PAYMENT_SIGNAL, { timeout: asDuration(process.env.PAYMENT_TIMEOUT ?? '30m', 'PAYMENT_TIMEOUT') });
    if (!payment) {
      await ctx.task('close-order', () => void this.orders.close(orderId));
      this.logger.log(`order ${orderId} closed: no payment came`);
      return { orderId, status: 'closed' as const };
    }
    // A child flow: this run parks (no worker held) until the charge ends, and gets its receipt back.
    const { receipt } = await ctx.child('charge', ChargePayment, { orderId, amount: payment.payload.amount });
    await ctx.task('mark-paid', () => void this.orders.markPaid(orderId, payment.payload.amount, receipt));
    this.logger.log(`order ${orderId} paid ${payment.payload.amount} at ${payment.sentAt.toISOString()} (${receipt})`);
    return { orderId, status: 'paid' as const, amount: payment.payload.amount, receipt };
  }

  @OnFlowFail(ORDER_PAYMENT)
  onFail(ctx: FlowContext<{ orderId: string }>, failure: FlowFailure) {
    this.logger.error(`Order ${ctx.input.orderId} is stuck: ${failure.error.message}`);
  }
}
