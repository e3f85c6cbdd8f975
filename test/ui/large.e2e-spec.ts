import { Injectable } from '@nestjs/common';
import type { Page } from 'playwright-core';
import { Flow, GoTickModule, TickService, type FlowContext } from '../../lib';
import type { TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';
import { listenDashboardApp, screenshot, type Watched, useSignedInDashboard } from './support/dashboard';

const TOKEN = 'ui-large-token';
const STEPS = 10_000;
const RUNS = 100_000;

@Injectable()
class LargeFlows {
  /** Ten thousand steps: a hundred waits of ten in parallel, each then a memo of its own. */
  @Flow('ui/big')
  async big(ctx: FlowContext) {
    for (let group = 0; group < STEPS / 100; group++) {
      await ctx.wait(ctx.asyncArray(`g${group}`, Array.from({ length: 90 }, (_, i) => i), (_task, i) => i));
      for (let i = 0; i < 10; i++) await ctx.memo(`m${group}:${i}`, () => i);
    }
    return { steps: STEPS };
  }

  @Flow('ui/bulk')
  async bulk() {
    return 'never runs here: this node triggers only';
  }
}

describe('dashboard: large runs and long lists', () => {
  const session = useSignedInDashboard({ token: TOKEN, prefix: 'uilarge', providers: [LargeFlows], module: { worker: false }, timeoutMs: 120_000 });
  let redis: TestRedis;
  let ui: string;
  let ticks: TickService;
  let watched: Watched;
  let page: Page;
  beforeAll(() => ({ redis, ui, ticks, watched, page } = session));

  it(`renders a run of ${STEPS.toLocaleString()} steps in under 2 s, keeping only the rows in view in the page`, async () => {
    // A second app on the same Redis and prefix runs the flow (the page's app triggers only).
    const runner = await listenDashboardApp({
      imports: [GoTickModule.forRoot({ connection: redis.url, prefix: `uilarge${process.pid}`, worker: { concurrency: 1 } })],
      providers: [LargeFlows],
    });
    let runId: string;
    try {
      ({ runId } = await ticks.trigger('ui/big', {}));
      const run = await ticks.waitForRun(runId, { timeout: '5m' });
      expect(run.status).toBe('completed');
      expect(run.steps).toHaveLength(STEPS);
    } finally {
      await runner.app.close();
    }
    const timings: number[] = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${ui}#/flows`);
      await page.getByRole('heading', { name: 'Flows' }).waitFor();
      const started = Date.now();
      // From the click on the run's link to its steps on screen: fetch, parse and render.
      await page.evaluate(`location.hash = '#/runs/${runId}'`);
      await page.getByText(`(${STEPS.toLocaleString()})`).waitFor({ timeout: 30_000 });
      await page.locator('[data-step="g0:0"]').waitFor({ timeout: 30_000 });
      timings.push(Date.now() - started);
    }
    console.log(`${STEPS} steps: rendered in ${timings.join(', ')} ms`);
    expect(Math.min(...timings)).toBeLessThan(2000);
    expect(Math.max(...timings)).toBeLessThan(4000);
    // Virtualised: a few dozen rows in the DOM, not ten thousand.
    expect(await page.locator('[data-step]').count()).toBeLessThan(100);
    // The end of the list is reachable by keyboard.
    await page.locator('[data-step="g0:0"]').focus();
    await page.keyboard.press('End');
    await page.locator(`[data-step="m99:9"]`).waitFor();
    expect(await page.locator('[data-step]').count()).toBeLessThan(100);
    await screenshot(page, 'run-10000-steps');
    expect(watched.consoleErrors.filter((line) => !/404.*\/schedules$/.test(line))).toEqual([]);
  }, 300_000);

  it(`pages through ${RUNS.toLocaleString()} runs a page at a time`, async () => {
    const started = Date.now();
    for (let created = 0; created < RUNS; created += 1000) {
      await ticks.triggerMany('ui/bulk', Array.from({ length: 1000 }, (_, i) => ({ input: { n: created + i } })));
    }
    console.log(`${RUNS} runs created in ${Date.now() - started} ms`);
    const newest = (await ticks.listRuns({ flowId: 'ui/bulk', limit: 1 })).runs[0].runId;

    watched.requests.length = 0;
    await page.goto(`${ui}#/runs?flowId=ui%2Fbulk`);
    await page.getByTestId('page-size').getByText('100 runs on this page').waitFor();
    expect(await page.locator('[data-run]').first().getAttribute('data-run')).toBe(newest);
    const seen = new Set<string>();
    for (let p = 0; p < 3; p++) {
      const first = await page.locator('[data-run]').first().getAttribute('data-run');
      expect(seen.has(first!)).toBe(false);
      seen.add(first!);
      await page.getByRole('button', { name: 'Older →' }).click();
      await waitUntil(async () => (await page.locator('[data-run]').first().getAttribute('data-run')) !== first, 'the next page');
    }
    await page.getByRole('button', { name: '← Newer' }).click();
    await waitUntil(async () => page.url().includes('cursor='), 'a page back');
    // Every list request asked for one page (limit=100): nothing loads the 100,000.
    const lists = watched.requests.filter((r) => r.startsWith('GET /gotick/runs?'));
    expect(lists.length).toBeGreaterThan(0);
    for (const request of lists) expect(new URL(`http://x${request.slice(4)}`).searchParams.get('limit')).toBe('100');
    expect(await page.locator('[data-run]').count()).toBeLessThan(60);

    // The flows view counts them: all 100,000 in total, statuses read over the newest 10,000.
    await page.goto(`${ui}#/flows`);
    const row = page.locator('tr[data-flow="ui/bulk"]');
    await waitUntil(async () => (await row.locator('[data-count="total"]').textContent()) === RUNS.toLocaleString('en-US'), 'the total count');
    expect(await row.locator('[data-count="queued"]').textContent()).toBe((10_000).toLocaleString('en-US'));
    await screenshot(page, 'flows-100000');
    expect(watched.consoleErrors.filter((line) => !/404.*\/schedules$/.test(line))).toEqual([]);
  }, 300_000);
});
