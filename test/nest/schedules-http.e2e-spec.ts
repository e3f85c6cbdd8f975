import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Flow, GoTickModule, InvalidScheduleError, TickClient, TickClientError, TickService, type FlowContext } from '../../lib';
import { bootApp, listenApp } from '../support/nest-app';
import { startRedis, type TestRedis } from '../support/redis-server';

@Injectable()
class ReportFlows {
  @Flow('reports/nightly', { schedule: { cron: '0 2 * * *', tz: 'America/New_York', input: { kind: 'nightly' } } })
  async nightly(ctx: FlowContext<{ kind: string }>) {
    return ctx.input.kind;
  }

  @Flow('reports/hourly', { schedule: '0 * * * *' })
  async hourly() {
    return 'ok';
  }
}

const TOKEN = 'schedules-token';

describe('schedules over REST and TickClient, on a real socket', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let base: string;
  let client: TickClient;
  const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    redis = await startRedis();
    ({ app, base } = await listenApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `sh${process.pid}`, http: { path: 'gotick', token: TOKEN } })],
      providers: [ReportFlows],
    }));
    client = new TickClient({ baseUrl: base, token: TOKEN });
  });
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
  });

  it('GET /schedules lists the @Flow schedules with their next slot; without the token: 401', async () => {
    expect((await fetch(`${base}/schedules`)).status).toBe(401);
    const response = await fetch(`${base}/schedules`, { headers: auth });
    expect(response.status).toBe(200);
    const { schedules } = (await response.json()) as { schedules: Array<{ nextAt: string }> };
    expect(schedules).toEqual([
      { scheduleId: 'reports/hourly', flowId: 'reports/hourly', spec: { cron: '0 * * * *' }, source: 'code', skipped: 0, nextAt: expect.any(String) },
      {
        scheduleId: 'reports/nightly',
        flowId: 'reports/nightly',
        spec: { cron: '0 2 * * *', tz: 'America/New_York', input: { kind: 'nightly' } },
        source: 'code',
        skipped: 0,
        nextAt: expect.any(String),
      },
    ]);
    const hour = new Intl.DateTimeFormat('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(schedules[1].nextAt));
    expect(hour).toBe('02:00');
    expect(await client.listSchedules()).toEqual(schedules);
  });

  it('PUT /schedules/:id creates a runtime schedule (input kept as sent); a bad cron or zone is a 400 naming it; DELETE removes it, then 404', async () => {
    const put = (id: string, body: unknown) => fetch(`${base}/schedules/${encodeURIComponent(id)}`, { method: 'PUT', headers: auth, body: JSON.stringify(body) });
    const created = await fetch(`${base}/schedules/tenant-7%2Fcleanup`, {
      method: 'PUT',
      headers: auth,
      body: '{"flowId":"reports/hourly","every":"10m","input":{"__proto__":"kept","tenant":7},"overlap":"allow"}',
    });
    expect(created.status).toBe(200);
    const view = (await created.json()) as { spec: { input: Record<string, unknown> } };
    expect(view).toMatchObject({ scheduleId: 'tenant-7/cleanup', flowId: 'reports/hourly', source: 'runtime', spec: { every: '10m', overlap: 'allow', input: { tenant: 7 } } });
    expect(Object.getOwnPropertyDescriptor(view.spec.input, '__proto__')?.value).toBe('kept');

    const badCron = await put('x', { flowId: 'reports/hourly', cron: '0 0 31 2 * * *' });
    expect(badCron.status).toBe(400);
    expect(await badCron.json()).toMatchObject({ error: 'InvalidScheduleError', message: expect.stringContaining('cron "0 0 31 2 * * *"') });
    const badZone = await put('x', { flowId: 'reports/hourly', cron: '0 6 * * *', tz: 'Europe/Atlantis' });
    expect(badZone.status).toBe(400);
    expect(((await badZone.json()) as { message: string }).message).toContain('time zone "Europe/Atlantis" is not an IANA zone name');
    const unknownFlow = await put('x', { flowId: 'reports/none', every: '1h' });
    expect(unknownFlow.status).toBe(404);
    const unknownField = await put('x', { flowId: 'reports/hourly', every: '1h', when: 'now' });
    expect(unknownField.status).toBe(400);

    const removed = await fetch(`${base}/schedules/${encodeURIComponent('tenant-7/cleanup')}`, { method: 'DELETE', headers: auth });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ scheduleId: 'tenant-7/cleanup', removed: true });
    expect((await fetch(`${base}/schedules/${encodeURIComponent('tenant-7/cleanup')}`, { method: 'DELETE', headers: auth })).status).toBe(404);
  });

  it('TickClient schedule / unschedule / listSchedules', async () => {
    const view = await client.schedule('client-made', 'reports/nightly', { cron: '15 3 * * 1', tz: 'Asia/Tokyo', input: { kind: 'weekly' } });
    expect(view).toMatchObject({ scheduleId: 'client-made', source: 'runtime', spec: { cron: '15 3 * * 1', tz: 'Asia/Tokyo', input: { kind: 'weekly' } } });
    expect((await app.get(TickService).listSchedules()).map((s) => s.scheduleId)).toContain('client-made');
    await expect(client.schedule('client-bad', 'reports/nightly', { every: '100ms' })).rejects.toThrow(TickClientError);
    expect(await client.unschedule('client-made')).toBe(true);
    expect(await client.unschedule('client-made')).toBe(false);
  });

  it('a @Flow with a bad cron or time zone stops bootstrap with InvalidScheduleError naming flow and value', async () => {
    @Injectable()
    class BadCron {
      @Flow('reports/broken', { schedule: { cron: '0 6 * * *', tz: 'Berlin' } })
      async broken() {
        return 'never';
      }
    }
    const boot = bootApp({ imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `shb${process.pid}` })], providers: [BadCron] });
    await expect(boot).rejects.toThrow(InvalidScheduleError);
    await expect(boot).rejects.toThrow('Invalid schedule "reports/broken": time zone "Berlin" is not an IANA zone name');
  });
});
