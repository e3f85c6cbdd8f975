import { Injectable, Logger } from '@nestjs/common';
import { Flow, type FlowContext } from 'nestjs-gotick';
import { OrderService } from '../orders/order.service';

export const NIGHTLY_REPORT = 'reports/nightly';

/**
 * A nightly report on a schedule: at 02:00 Berlin time (also across DST),
 * one run per night however many replicas run the app; a night missed while
 * every replica was down is made up once when one comes back.
 */
@Injectable()
export class ReportFlows {
  private readonly logger = new Logger(ReportFlows.name);

  constructor(private readonly orders: OrderService) {}

  @Flow(NIGHTLY_REPORT, { schedule: { cron: '0 2 * * *', tz: 'Europe/Berlin', input: { title: 'Orders by status' } } })
  async nightly(ctx: FlowContext<{ title: string }>) {
    const counts = await ctx.memo('count-orders', () => {
      const byStatus: Record<string, number> = { open: 0, paid: 0, closed: 0 };
      for (const order of this.orders.all()) byStatus[order.status]++;
      return byStatus;
    });
    await ctx.task('send-report', () => this.logger.log(`${ctx.input.title}: ${JSON.stringify(counts)}`));
    return counts;
  }
}
