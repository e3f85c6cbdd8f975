import { Injectable } from '@nestjs/common';
import type { Page } from 'playwright-core';
import { Flow, TickService, type FlowContext } from '../../lib';
import { waitUntil } from '../support/wait-until';
import { screenshot, type Watched, useSignedInDashboard } from './support/dashboard';

const TOKEN = 'ui-live-token';

@Injectable()
class LiveFlows {
  @Flow('ui/short-nap')
  async nap(ctx: FlowContext<{ ms: number }>) {
    await ctx.sleep('nap', ctx.input.ms);
    return 'rested';
  }
}

describe('dashboard: the runs list stays live', () => {
  const session = useSignedInDashboard({ token: TOKEN, prefix: 'uilive', providers: [LiveFlows] });
  let ui: string;
  let ticks: TickService;
  let watched: Watched;
  let page: Page;
  beforeAll(() => ({ ui, ticks, watched, page } = session));
  const rowStatus = (runId: string) => page.locator(`[data-run="${runId}"] [data-status]`).getAttribute('data-status', { timeout: 100 }).catch(() => null);

  it('shows a new run, and its end, within a second, without a reload', async () => {
    await page.goto(`${ui}#/runs?flowId=ui%2Fshort-nap`);
    await page.getByRole('heading', { name: 'Runs' }).waitFor();
    await page.evaluate('window.__sameDocument = true');
    const appeared: number[] = [];
    const ended: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { runId } = await ticks.trigger('ui/short-nap', { ms: 700 });
      const triggeredAt = Date.now();
      await waitUntil(() => rowStatus(runId), `run ${runId} to appear in the list`, 5000);
      appeared.push(Date.now() - triggeredAt);
      await ticks.waitForRun(runId, { timeout: '10s' });
      const endedAt = Date.now();
      await waitUntil(async () => (await rowStatus(runId)) === 'completed', `run ${runId} to show completed`, 5000);
      ended.push(Date.now() - endedAt);
    }
    // Newest first: the last run triggered is the top row.
    const first = await page.locator('[data-run]').first().getAttribute('data-run');
    const newest = (await ticks.listRuns({ flowId: 'ui/short-nap', limit: 1 })).runs[0].runId;
    expect(first).toBe(newest);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
    await screenshot(page, 'runs');
    console.log(`runs list: new run shown after ${appeared.join(', ')} ms; end shown after ${ended.join(', ')} ms`);
    expect(Math.max(...appeared)).toBeLessThan(1000);
    expect(Math.max(...ended)).toBeLessThan(1000);
    expect(watched.consoleErrors.filter((line) => !/404.*\/schedules$/.test(line))).toEqual([]);
  });

  it('filters by status from the page', async () => {
    const { runId } = await ticks.trigger('ui/short-nap', { ms: 60_000 });
    await waitUntil(async () => (await ticks.getRun(runId))?.status === 'sleeping', 'the run to sleep');
    await page.goto(`${ui}#/runs`);
    await page.getByLabel('Status', { exact: true }).selectOption('sleeping');
    await waitUntil(async () => (await page.locator('[data-run]').count()) === 1, 'one sleeping run listed');
    expect(await page.locator('[data-run]').first().getAttribute('data-run')).toBe(runId);
    expect(page.url()).toContain('status=sleeping');
    await page.getByLabel('Status', { exact: true }).selectOption('completed');
    await waitUntil(async () => (await page.locator('[data-run]').count()) === 5, 'the five completed runs listed');
    // Keyboard: arrows walk the rows, Enter opens the run.
    await page.locator('[data-run]').first().focus();
    await page.keyboard.press('ArrowDown');
    const second = await page.locator('[data-run]').nth(1).getAttribute('data-run');
    await waitUntil(async () => (await page.evaluate('document.activeElement.dataset.run')) === second, 'ArrowDown to focus the second row');
    await page.keyboard.press('Enter');
    await waitUntil(() => page.url().endsWith(`#/runs/${second}`), 'Enter to open the focused run');
    expect(watched.consoleErrors.filter((line) => !/404.*\/schedules$/.test(line))).toEqual([]);
  });
});
