import { Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';

export interface Order {
  id: string;
  item: string;
  status: 'open' | 'paid' | 'closed';
  createdAt: string;
  paidAt?: string;
  amount?: number;
  /** The payment flow's receipt. */
  receipt?: string;
  closedAt?: string;
}

/** The app's own order store (in memory here; a database in a real app). */
@Injectable()
export class OrderService {
  private readonly orders = new Map<string, Order>();

  create(item: string): Order {
    const order: Order = { id: randomUUID(), item, status: 'open', createdAt: new Date().toISOString() };
    this.orders.set(order.id, order);
    return order;
  }

  /** Every order, for reports. */
  all(): Order[] {
    return [...this.orders.values()];
  }

  get(id: string): Order {
    const order = this.orders.get(id);
    if (!order) throw new NotFoundException(`Order ${id} not found`);
    return order;
  }

  /** Idempotent, as a step that may run again after a crash should be. */
  close(id: string): Order {
    const order = this.get(id);
    if (order.status === 'open') Object.assign(order, { status: 'closed', closedAt: new Date().toISOString() });
    return order;
  }

  /** Idempotent too: a second call changes nothing. */
  markPaid(id: string, amount: number, receipt?: string): Order {
    const order = this.get(id);
    if (order.status === 'open') Object.assign(order, { status: 'paid', amount, receipt, paidAt: new Date().toISOString() });
    return order;
  }
}
