import { Injectable, Logger } from '@nestjs/common';
import { defineFlow, Flow, type FlowContext } from 'nestjs-gotick';

/** The payment flow's id and types, shared by the flow and the order flow that calls it as a child. */
export const ChargePayment = defineFlow<{ orderId: string; amount: number }, { receipt: string }>('payments/charge');

/**
 * Charging is a flow of its own: its own retries, its own timeout, its own
 * run in the dashboard, and reusable by any flow that takes money. The order
 * flow runs it as a child and gets its receipt back.
 */
@Injectable()
export class PaymentFlows {
  private readonly logger = new Logger(PaymentFlows.name);

  @Flow(ChargePayment, { timeout: '5m' })
  async charge(ctx: FlowContext<{ orderId: string; amount: number }>) {
    const { orderId, amount } = ctx.input;
    // Stands in for the payment provider's capture call; the provider dedupes on the run id.
    const receipt = await ctx.memo('capture', () => `rcpt-${orderId}-${amount}`, { retries: 5, backoff: { type: 'exponential', delay: '1s' } });
    this.logger.log(`order ${orderId}: captured ${amount} (${receipt})`);
    return { receipt };
  }
}
