import { Body, ConflictException, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { IsNumber, IsPositive, IsString, MaxLength } from 'class-validator';
import { RunFinishedError, TickService } from 'nestjs-gotick';
import { ORDER_PAYMENT, PAYMENT_SIGNAL, orderRunId, type Payment } from './order.flows';
import { OrderService } from './order.service';

class CreateOrderDto {
  @IsString()
  @MaxLength(200)
  item!: string;
}

class PayDto implements Payment {
  @IsNumber()
  @IsPositive()
  amount!: number;
}

@Controller('orders')
export class OrdersController {
  constructor(
    private readonly orders: OrderService,
    private readonly ticks: TickService,
  ) {}

  /** Creates an order and starts its run: paid within PAYMENT_TIMEOUT (default 30m), or closed. */
  @Post()
  async create(@Body() body: CreateOrderDto) {
    const order = this.orders.create(body.item);
    const { runId } = await this.ticks.trigger(ORDER_PAYMENT, { orderId: order.id }, { runId: orderRunId(order.id) });
    return { order, runId };
  }

  /** Tells the order's run that the payment arrived; 409 once the order was closed (or paid). */
  @Post(':id/pay')
  @HttpCode(202)
  async pay(@Param('id') id: string, @Body() body: PayDto) {
    this.orders.get(id);
    try {
      await this.ticks.signal(orderRunId(id), PAYMENT_SIGNAL, { amount: body.amount });
    } catch (err) {
      if (err instanceof RunFinishedError) throw new ConflictException(`Order ${id} is already ${this.orders.get(id).status}.`);
      throw err;
    }
    return { orderId: id, runId: orderRunId(id) };
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.orders.get(id);
  }
}
