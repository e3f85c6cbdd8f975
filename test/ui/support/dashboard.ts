import 'reflect-metadata';
import type { INestApplication, ModuleMetadata, Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { GoTickModule, TickService, type GoTickModuleOptions } from '../../../lib';
import { startRedis, type TestRedis } from '../../support/redis-server';

const ROOT = join(__dirname, '..', '..', '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'ui');
/** Debian's chromium package: the tests never download a browser. */
export const CHROMIUM = process.env.GOTICK_CHROMIUM ?? '/usr/bin/chromium';

function newest(dir: string): number {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    latest = Math.max(latest, stat.isDirectory() ? newest(path) : stat.mtimeMs);
  }
  return latest;
}

/** Builds ui/ into dist/ui when the build is missing or older than its sources, as `npm run build` would. */
export function ensureDashboardBuilt(): void {
  const built = join(ROOT, 'dist', 'ui', 'index.html');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(ROOT, 'ui'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'ui/vite.config.mjs', '--logLevel', 'error'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

/** A Nest app on a real loopback socket; `ui` is the dashboard's URL. */
export async function listenDashboardApp(metadata: ModuleMetadata, path = 'gotick'): Promise<{ app: INestApplication; origin: string; ui: string; api: string }> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const origin = await app.getUrl();
  return { app, origin, ui: `${origin}/${path}/ui/`, api: `${origin}/${path}` };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`No browser at ${CHROMIUM}: install Debian's chromium package (apt-get install -y chromium).`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** What a page did that a user would not want: console errors, and requests to any host but 127.0.0.1. */
export interface Watched {
  page: Page;
  consoleErrors: string[];
  offsite: string[];
  /** Every request path the page made to the API, in order. */
  requests: string[];
}

export async function openPage(browser: Browser, url?: string): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const watched: Watched = { page, consoleErrors: [], offsite: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watched.consoleErrors.push(`${message.text()} @ ${message.location().url}`);
  });
  page.on('pageerror', (error) => watched.consoleErrors.push(`uncaught: ${error.message}`));
  // Every request passes here first: one to any other host is refused and counted.
  await context.route('**/*', (route) => {
    const target = new URL(route.request().url());
    if (target.protocol === 'data:' || target.hostname === '127.0.0.1') {
      watched.requests.push(`${route.request().method()} ${target.pathname}${target.search}`);
      return route.continue();
    }
    watched.offsite.push(route.request().url());
    return route.abort();
  });
  if (url) await page.goto(url);
  return watched;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Types the token into the prompt and waits for the page behind it. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Open dashboard' }).click();
  await page.getByRole('navigation', { name: 'Views' }).waitFor();
}

/** What a dashboard spec works with; set in its beforeAll, so read it inside tests. */
export interface DashboardSession {
  redis: TestRedis;
  app: INestApplication;
  /** The dashboard's URL. */
  ui: string;
  ticks: TickService;
  browser: Browser;
  watched: Watched;
  page: Page;
}

/**
 * The usual dashboard spec: a private redis-server, an app with GoTick's routes
 * on a real socket (`module` adds to the connection, prefix and token given here),
 * Debian's chromium on the dashboard, signed in. Everything is closed after the
 * file; after each test, the page must have made no request off the machine.
 */
export function useSignedInDashboard(setup: { token: string; prefix: string; providers: Provider[]; module?: Partial<GoTickModuleOptions>; timeoutMs?: number }): DashboardSession {
  const session = {} as DashboardSession;
  beforeAll(async () => {
    ensureDashboardBuilt();
    session.redis = await startRedis();
    const gotick = GoTickModule.forRoot({ connection: session.redis.url, prefix: `${setup.prefix}${process.pid}`, http: { path: 'gotick', token: setup.token }, ...setup.module });
    ({ app: session.app, ui: session.ui } = await listenDashboardApp({ imports: [gotick], providers: setup.providers }));
    session.ticks = session.app.get(TickService);
    session.browser = await launchChromium();
    session.watched = await openPage(session.browser, session.ui);
    session.page = session.watched.page;
    await signIn(session.page, setup.token);
  }, setup.timeoutMs);
  afterAll(async () => {
    await session.browser?.close();
    await session.app?.close();
    await session.redis?.stop();
  });
  afterEach(() => expect(session.watched.offsite).toEqual([]));
  return session;
}
