import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { GOTICK_QUEUE, GoTickModule } from 'nestjs-gotick';
import { HealthController } from './health/health.controller';
import { DownloadFlows } from './download/download.flows';
import { OrderFlows } from './orders/order.flows';
import { OrderService } from './orders/order.service';
import { OrdersController } from './orders/orders.controller';
import { PaymentFlows } from './orders/payment.flows';
import { ReportFlows } from './reports/report.flows';
import { TranslateFlows } from './translate/translate.flows';

@Module({
  imports: [
    GoTickModule.forRoot({
      connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix: 'gotick-sample',
      worker: { concurrency: 10 },
      http: { path: 'gotick', token: process.env.GOTICK_TOKEN ?? 'dev-token' },
      // Prometheus metrics in prom-client's default registry, also at GET /gotick/metrics (bearer token).
      metrics: true,
    }),
    TerminusModule,
    // Bull Board at /queues, read-only: GoTick's queue is for watching (a run's state is in GoTick's keys, not its job).
    // The cast: @bull-board/express 9.10.1 is typed against @bull-board/api 9.10.1, the Nest module against 9.10.2.
    BullBoardModule.forRoot({ route: '/queues', adapter: ExpressAdapter as never }),
    BullBoardModule.forFeature({ name: GOTICK_QUEUE, adapter: BullMQAdapter, options: { prefix: 'gotick/', readOnlyMode: true } }),
  ],
  controllers: [OrdersController, HealthController],
  providers: [OrderService, OrderFlows, PaymentFlows, DownloadFlows, TranslateFlows, ReportFlows],
})
export class AppModule {}
