import { Injectable, type CanActivate, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { Flow, GoTickModule, TickClient, TickClientError, type FlowContext } from '../../lib';
import { startRedis, type TestRedis } from '../support/redis-server';
import { ensureDashboardBuilt, launchChromium, listenDashboardApp, openPage, screenshot, signIn } from './support/dashboard';

const TOKEN = 'ui-auth-token';

/** A reverse proxy that serves the app under `/<prefix>/`, as a company gateway would. */
async function proxyUnder(prefix: string, origin: string): Promise<{ server: Server; url: string }> {
  const target = new URL(origin);
  const server = createServer((req, res) => {
    if (!req.url!.startsWith(`/${prefix}/`)) {
      res.writeHead(404).end('not behind the proxy');
      return;
    }
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url!.slice(prefix.length + 1), headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${prefix}` };
}

/** The app's own session, as a cookie: what an app with a login page would check. */
@Injectable()
class SessionGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const cookie: unknown = context.switchToHttp().getRequest().headers?.cookie;
    return typeof cookie === 'string' && cookie.split(/;\s*/).includes('session=let-me-in');
  }
}

@Injectable()
class AuthFlows {
  @Flow('ui/hello')
  async hello(ctx: FlowContext<{ name: string }>) {
    return ctx.memo('greet', () => `hello ${ctx.input.name}`);
  }
}

describe('dashboard: shell, token and wrong token', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let ui: string;
  let api: string;
  let browser: Browser;

  beforeAll(async () => {
    ensureDashboardBuilt();
    redis = await startRedis();
    ({ app, ui, api } = await listenDashboardApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `uiauth${process.pid}`, http: { path: 'gotick', token: TOKEN } })],
      providers: [AuthFlows],
    }));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await redis?.stop();
  });

  it('serves the shell without auth, its assets cached for good, and nothing else from disk', async () => {
    const bare = await fetch(ui.replace(/\/$/, ''), { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('ui/');
    const shell = await fetch(ui);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-type')).toMatch(/^text\/html/);
    expect(shell.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await shell.text();
    expect(html).toContain('<meta name="gotick-auth" content="token" />');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${ui}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // The page's data stays behind the token.
    expect((await fetch(`${api}/flows`)).status).toBe(401);
    for (const probe of ['../package.json', '..%2F..%2Fpackage.json', '.vite/manifest.json', 'assets/../../index.ts']) {
      const answer = await fetch(`${ui}${probe}`);
      expect([404, 302]).toContain(answer.status);
      expect(await answer.text()).not.toContain('"name": "nestjs-gotick"');
    }
  });

  it('counts runs by status over REST and TickClient, behind the same token', async () => {
    const client = new TickClient({ baseUrl: api, token: TOKEN });
    const { runId } = await client.trigger('ui/hello', { name: 'ana' });
    await client.waitForRun(runId, { timeout: '10s' });
    expect(await client.countRuns('ui/hello')).toMatchObject({ flowId: 'ui/hello', total: 1, counted: 1, byStatus: { completed: 1, failed: 0 } });
    await expect(client.countRuns('ui/nope')).rejects.toMatchObject({ status: 404 });
    await expect(new TickClient({ baseUrl: api }).countRuns('ui/hello')).rejects.toBeInstanceOf(TickClientError);
    expect((await fetch(`${api}/flows/ui%2Fhello/counts`)).status).toBe(401);
  });

  it('asks for the token, says clearly when it is wrong, and opens with the right one', async () => {
    const watched = await openPage(browser, ui);
    const { page } = watched;
    await page.getByRole('heading', { name: 'Sign in to GoTick' }).waitFor();
    await screenshot(page, 'token-prompt');

    await page.getByLabel('Bearer token').fill('not-the-token');
    await page.getByRole('button', { name: 'Open dashboard' }).click();
    const refusal = page.getByTestId('token-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('refused this token (401');
    expect(await page.evaluate('sessionStorage.getItem("gotick.token")')).toBeNull();
    await screenshot(page, 'token-wrong');

    await signIn(page, TOKEN);
    await page.getByRole('heading', { name: 'Flows' }).waitFor();
    await page.getByRole('rowheader', { name: 'ui/hello' }).waitFor();
    // Kept for this tab only: never in the URL, a cookie or localStorage.
    expect(await page.evaluate('sessionStorage.getItem("gotick.token")')).toBe(TOKEN);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.context().cookies()).toEqual([]);
    expect(page.url()).not.toContain(TOKEN);

    // A reload in the same tab stays signed in.
    await page.reload();
    await page.getByRole('rowheader', { name: 'ui/hello' }).waitFor();

    expect(watched.offsite).toEqual([]);
    // The wrong token's 401 is the one error the browser logs, as a failed resource load: the first visit asks for
    // the token before calling the API, since the page says the routes want one.
    expect(watched.consoleErrors.filter((line) => !/404.*\/schedules$/.test(line))).toEqual([
      expect.stringMatching(/status of 401 .*\/gotick\/flows$/),
    ]);
    await page.context().close();
  });

  it('works under a nested http.path behind a proxy that adds its own prefix', async () => {
    const nested = await listenDashboardApp(
      {
        imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `uinest${process.pid}`, http: { path: 'ops/gotick', token: TOKEN } })],
        providers: [AuthFlows],
      },
      'ops/gotick',
    );
    const proxy = await proxyUnder('gateway', nested.origin);
    try {
      const watched = await openPage(browser, `${proxy.url}/ops/gotick/ui`);
      const { page } = watched;
      await signIn(page, TOKEN);
      await page.getByRole('rowheader', { name: 'ui/hello' }).waitFor();
      expect(page.url()).toMatch(/\/gateway\/ops\/gotick\/ui\/(#.*)?$/);
      // Every request of the page went through the proxy's prefix.
      expect(watched.requests.length).toBeGreaterThan(2);
      for (const line of watched.requests) expect(line.split(' ')[1]).toMatch(/^\/gateway\/ops\/gotick\//);
      expect(watched.offsite).toEqual([]);
      await page.context().close();
    } finally {
      proxy.server.close();
      await nested.app.close();
    }
  });

  it('with http.guard, rides on the app\'s own session cookie and asks for no token', async () => {
    const guarded = await listenDashboardApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `uiguard${process.pid}`, http: { path: 'gotick', guard: SessionGuard } })],
      providers: [AuthFlows, SessionGuard],
    });
    try {
      const watched = await openPage(browser);
      const { page } = watched;
      await page.context().addCookies([{ name: 'session', value: 'let-me-in', url: guarded.origin }]);
      await page.goto(guarded.ui);
      await page.getByRole('rowheader', { name: 'ui/hello' }).waitFor();
      expect(await page.getByLabel('Bearer token').count()).toBe(0);
      expect(await page.evaluate('sessionStorage.length')).toBe(0);
      // Without the session the guard says no, and the page says so.
      await page.context().clearCookies();
      await page.reload();
      await page.getByText('The server refused access (403 Forbidden)').waitFor();
      expect(watched.offsite).toEqual([]);
      await page.context().close();
    } finally {
      await guarded.app.close();
    }
  });

  it('is left out with http.ui: false', async () => {
    const other = await listenDashboardApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `uioff${process.pid}`, http: { path: 'gotick', token: TOKEN, ui: false } })],
      providers: [AuthFlows],
    });
    try {
      expect((await fetch(other.ui)).status).toBe(404);
      expect((await fetch(`${other.api}/flows`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      await other.app.close();
    }
  });
});
