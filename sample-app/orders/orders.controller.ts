import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { IsString, MaxLength } from 'class-validator';
import { TickService } from 'nestjs-gotick';
import { CLOSE_ORDER } from './order.flows';
import { OrderService } from './order.service';

class CreateOrderDto {
  @IsString()
  @MaxLength(200)
  item!: string;
}

@Controller('orders')
export class OrdersController {
  constructor(
    private readonly orders: OrderService,
    private readonly ticks: TickService,
  ) {}

  /** Creates an order and starts the flow that closes it 3 s later. */
  @Post()
  async create(@Body() body: CreateOrderDto) {
    const order = this.orders.create(body.item);
    // The order id as run id: a retried POST can never schedule two closings.
    const { runId } = await this.ticks.trigger(CLOSE_ORDER, { orderId: order.id }, { runId: `close-${order.id}` });
    return { order, runId };
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.orders.get(id);
  }
}
