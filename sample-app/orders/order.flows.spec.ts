import { Test, type TestingModule } from '@nestjs/testing';
import { GoTickTestHarness, GoTickTestingModule } from 'nestjs-gotick/testing';
import { ORDER_PAYMENT, OrderFlows, PAYMENT_SIGNAL, orderRunId } from './order.flows';
import { OrderService } from './order.service';
import { PaymentFlows } from './payment.flows';

// The sample's order flow, unit-tested the way an app would: its real providers, no Redis, a virtual clock.
describe('OrderFlows (nestjs-gotick/testing)', () => {
  let moduleRef: TestingModule;
  let gotick: GoTickTestHarness;
  let orders: OrderService;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [GoTickTestingModule.forRoot({ logLevel: 'error' })],
      providers: [OrderFlows, PaymentFlows, OrderService],
    }).compile();
    await moduleRef.init();
    gotick = moduleRef.get(GoTickTestHarness);
    orders = moduleRef.get(OrderService);
  });

  afterEach(() => moduleRef.close());

  it('marks the order paid when the payment arrives within 30 minutes', async () => {
    const order = orders.create('book');
    const { runId } = await gotick.trigger(ORDER_PAYMENT, { orderId: order.id }, { runId: orderRunId(order.id) });
    await gotick.advance('10m');
    expect((await gotick.getRun(runId))!.status).toBe('sleeping');

    await gotick.signal(runId, PAYMENT_SIGNAL, { amount: 42 });
    await gotick.runUntilIdle();

    const run = await gotick.getRun(runId);
    expect(run!.status).toBe('completed');
    expect(run!.output).toEqual({ orderId: order.id, status: 'paid', amount: 42, receipt: `rcpt-${order.id}-42` });
    expect(orders.get(order.id)).toMatchObject({ status: 'paid', amount: 42, receipt: `rcpt-${order.id}-42` });
    // The charge ran as a child run of the payment flow.
    expect((await gotick.history(runId)).map((s) => [s.key, s.kind])).toEqual([
      ['payment', 'signal'],
      ['charge', 'child'],
      ['mark-paid', 'task'],
    ]);
    expect((await gotick.listRuns({ parentRunId: runId })).runs).toEqual([expect.objectContaining({ flowId: 'payments/charge', status: 'completed' })]);
  });

  it('closes the order once 30 minutes pass without a payment, not a minute before', async () => {
    const order = orders.create('lamp');
    const { runId } = await gotick.trigger(ORDER_PAYMENT, { orderId: order.id }, { runId: orderRunId(order.id) });
    await gotick.advance('29m');
    expect(orders.get(order.id).status).toBe('open');

    await gotick.advance('1m');
    const run = await gotick.getRun(runId);
    expect(run!.status).toBe('completed');
    expect(run!.output).toEqual({ orderId: order.id, status: 'closed' });
    expect(orders.get(order.id).status).toBe('closed');
  });

  it('keeps a payment sent before the flow reached its wait', async () => {
    const order = orders.create('pen');
    const { runId } = await gotick.trigger(ORDER_PAYMENT, { orderId: order.id }, { runId: orderRunId(order.id) });
    await gotick.signal(runId, PAYMENT_SIGNAL, { amount: 7 });
    const run = await gotick.waitForRun(runId);
    expect(run.output).toEqual({ orderId: order.id, status: 'paid', amount: 7, receipt: `rcpt-${order.id}-7` });
  });

  it('retries a failing close with backoff, using a mocked step', async () => {
    const order = orders.create('mug');
    let calls = 0;
    gotick.mockStep(ORDER_PAYMENT, 'close-order', () => {
      calls++;
      if (calls < 3) throw new Error('database is down');
      orders.close(order.id);
    });
    const { runId } = await gotick.trigger(ORDER_PAYMENT, { orderId: order.id });
    const run = await gotick.waitForRun(runId, { timeout: '2h' });
    expect(run.status).toBe('completed');
    expect(calls).toBe(3);
    const closing = (await gotick.history(runId)).find((s) => s.key === 'close-order')!;
    expect(closing.attempts).toBe(3);
    expect(closing.errors!.map((e) => e.message)).toEqual(['database is down', 'database is down']);
    expect(orders.get(order.id).status).toBe('closed');
  });
});

describe('OrderFlows with a fake OrderService (overrideProvider)', () => {
  it('runs the flow against the fake the Nest way', async () => {
    const closed: string[] = [];
    const moduleRef = await Test.createTestingModule({
      imports: [GoTickTestingModule.forRoot({ logLevel: 'error' })],
      providers: [OrderFlows, OrderService],
    })
      .overrideProvider(OrderService)
      .useValue({ close: (id: string) => closed.push(id), markPaid: () => undefined })
      .compile();
    await moduleRef.init();
    const gotick = moduleRef.get(GoTickTestHarness);
    try {
      const { runId } = await gotick.trigger(ORDER_PAYMENT, { orderId: 'o-9' });
      const run = await gotick.waitForRun(runId, { timeout: '1h' });
      expect(run.output).toEqual({ orderId: 'o-9', status: 'closed' });
      expect(closed).toEqual(['o-9']);
    } finally {
      await moduleRef.close();
    }
  });
});
