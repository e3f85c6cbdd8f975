import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Browser, Page } from 'playwright-core';
import { startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';
import { ensureDashboardBuilt, launchChromium, openPage, screenshot, signIn, type Watched } from './support/dashboard';

const TOKEN = 'sample-ui-token';

describe('dashboard: the sample app in the browser', () => {
  let redis: TestRedis;
  let app: INestApplication;
  let origin: string;
  let browser: Browser;
  let watched: Watched;
  let page: Page;
  const runStatus = () => page.locator('#run-title [data-status]').getAttribute('data-status');

  beforeAll(async () => {
    ensureDashboardBuilt();
    redis = await startRedis();
    process.env.REDIS_URL = redis.url;
    process.env.GOTICK_TOKEN = TOKEN;
    const { AppModule } = await import('../../sample-app/app.module');
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalPipes(new ValidationPipe({ whitelist: true }));
    await app.listen(0, '127.0.0.1');
    origin = await app.getUrl();
    browser = await launchChromium();
    watched = await openPage(browser, `${origin}/gotick/ui`);
    page = watched.page;
    await signIn(page, TOKEN);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await redis?.stop();
    delete process.env.REDIS_URL;
    delete process.env.GOTICK_TOKEN;
  });
  afterEach(() => {
    expect(watched.offsite).toEqual([]);
    expect(watched.consoleErrors.filter((line) => !/404.*\/schedules$/.test(line))).toEqual([]);
  });

  it('lists the sample flows, triggers a parallel download from the page and draws its fan-out', async () => {
    for (const flow of ['demo/parallel-download', 'demo/parallel-translate', 'orders/await-payment']) {
      await page.getByRole('rowheader', { name: flow }).waitFor();
    }
    await page.getByLabel('Flow', { exact: true }).selectOption('demo/parallel-download');
    await page.getByLabel('Input (JSON)').fill('{ "src": "gotick" }');
    await page.getByRole('button', { name: 'Trigger' }).click();
    await page.waitForURL(/#\/runs\//);
    await waitUntil(async () => (await runStatus()) === 'completed', 'the download to complete on the page', 15_000);
    // split, then six downloads side by side (four at a time), joined.
    await page.getByText('wait #1: 6 steps side by side').waitFor();
    await page.locator('.react-flow__node', { hasText: 'download:5' }).waitFor();
    expect(await page.locator('.react-flow__node').count()).toBe(1 + 1 + 6 + 1 + 1);
    await screenshot(page, 'sample-download-run');
  });

  it('shows an order run waiting for its payment, and pays it with a signal from the page', async () => {
    const created = await fetch(`${origin}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: 'book' }) });
    const { order, runId } = (await created.json()) as { order: { id: string }; runId: string };
    await page.goto(`${origin}/gotick/ui/#/runs?flowId=orders%2Fawait-payment`);
    await page.locator(`[data-run="${runId}"]`).click();
    await waitUntil(async () => (await page.locator('[data-step="payment"]').textContent())?.includes('waiting for "payment"'), 'the wait for the payment');
    await page.getByLabel('Payload (JSON, optional)').fill('{ "amount": 42 }');
    await page.getByRole('button', { name: 'Send signal' }).click();
    await waitUntil(async () => (await runStatus()) === 'completed', 'the order run to complete', 10_000);
    const paid = (await (await fetch(`${origin}/orders/${order.id}`)).json()) as { status: string; amount: number };
    expect(paid).toMatchObject({ status: 'paid', amount: 42 });
    await page.getByRole('link', { name: 'Flows' }).click();
    await page.locator('tr[data-flow="demo/parallel-download"] [data-count="completed"]').getByText('1').waitFor();
    await screenshot(page, 'sample-flows');
  });

  it('follows the system colour scheme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${origin}/gotick/ui/#/runs`);
    await page.locator('[data-run]').first().waitFor();
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(background).toBe('rgb(19, 20, 23)');
    await screenshot(page, 'sample-runs-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(247, 247, 248)');
  });
});
