import { Module } from '@nestjs/common';
import { GoTickModule } from 'nestjs-gotick';
import { DownloadFlows } from './download/download.flows';
import { OrderFlows } from './orders/order.flows';
import { OrderService } from './orders/order.service';
import { OrdersController } from './orders/orders.controller';
import { ReportFlows } from './reports/report.flows';
import { TranslateFlows } from './translate/translate.flows';

@Module({
  imports: [
    GoTickModule.forRoot({
      connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix: 'gotick-sample',
      worker: { concurrency: 10 },
      http: { path: 'gotick', token: process.env.GOTICK_TOKEN ?? 'dev-token' },
    }),
  ],
  controllers: [OrdersController],
  providers: [OrderService, OrderFlows, DownloadFlows, TranslateFlows, ReportFlows],
})
export class AppModule {}
