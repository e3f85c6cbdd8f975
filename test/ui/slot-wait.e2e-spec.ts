import { Injectable } from '@nestjs/common';
import type { Page } from 'playwright-core';
import { Flow, TickService, type FlowContext } from '../../lib';
import { waitUntil } from '../support/wait-until';
import { screenshot, type Watched, useSignedInDashboard } from './support/dashboard';

const TOKEN = 'ui-slot-token';
/** Each run holds its customer's slot until the test releases it by name. */
const gates = new Map<string, () => void>();

@Injectable()
class SyncFlows {
  @Flow('ui/sync', { concurrency: { limit: 1, key: (input: { customer: string }) => input.customer } })
  async sync(ctx: FlowContext<{ customer: string; name: string }>) {
    await ctx.task('push', () => new Promise<void>((resolve) => gates.set(ctx.input.name, resolve)));
  }
}

describe('dashboard: a run held back by a concurrency cap says why it waits', () => {
  // Before the session's own afterAll: a run still holding its slot would hold up the app's close.
  afterAll(() => {
    for (const release of gates.values()) release();
  });
  const session = useSignedInDashboard({ token: TOKEN, prefix: 'uislot', providers: [SyncFlows] });
  let ui: string;
  let ticks: TickService;
  let watched: Watched;
  let page: Page;
  beforeAll(() => ({ ui, ticks, watched, page } = session));

  afterEach(() => {
    expect(watched.consoleErrors.filter((line) => !/\/schedules$/.test(line))).toEqual([]);
  });

  it('the run page names the key it waits on, beside its queued status; the list marks it in words; both clear once it runs', async () => {
    const holder = await ticks.trigger('ui/sync', { customer: 'customer-42', name: 'holder' });
    await waitUntil(() => gates.has('holder'), 'the first run to hold the slot of customer-42');
    const inLine = await ticks.trigger('ui/sync', { customer: 'customer-42', name: 'in-line' });
    await waitUntil(async () => (await ticks.getRun(inLine.runId))?.waitingForSlot, 'the second run to wait in line');

    await page.goto(`${ui}#/runs/${inLine.runId}`);
    await page.getByRole('heading', { name: new RegExp(inLine.runId) }).waitFor();
    expect(await page.locator('#run-title [data-status]').getAttribute('data-status')).toBe('queued');
    const line = page.getByTestId('slot-wait');
    await line.waitFor();
    expect(await line.innerText()).toMatch(/Waiting for a concurrency slot \(key: customer-42\) since /);
    // The graph's end node says it too.
    await page.locator('.react-flow__node', { hasText: 'run queued · waiting for slot' }).waitFor();
    // The holder's page has no such line: it runs.
    await page.goto(`${ui}#/runs/${holder.runId}`);
    await page.getByRole('heading', { name: new RegExp(holder.runId) }).waitFor();
    expect(await page.locator('#run-title [data-status]').getAttribute('data-status')).toBe('running');
    expect(await page.getByTestId('slot-wait').count()).toBe(0);

    // The list: "queued · waiting for slot" in text (no colour needed), the key in its title; the plain queued/running rows have none.
    await page.goto(`${ui}#/runs?flowId=ui%2Fsync`);
    const row = (runId: string) => page.locator(`[data-run="${runId}"]`);
    await row(inLine.runId).waitFor();
    expect(await row(inLine.runId).locator('[role="cell"]').first().innerText()).toMatch(/queued\s*·\s*waiting for slot/);
    expect(await row(inLine.runId).locator('.slot-wait-tag').getAttribute('title')).toMatch(/key: customer-42/);
    expect(await row(holder.runId).innerText()).not.toMatch(/waiting for slot/);
    await screenshot(page, 'slot-wait-list');

    // Its slot freed, the run starts: the live page drops the line by itself.
    await page.goto(`${ui}#/runs/${inLine.runId}`);
    await line.waitFor();
    await screenshot(page, 'slot-wait-run');
    gates.get('holder')!();
    await page.locator('#run-title [data-status="running"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('slot-wait').count()).toBe(0);
    gates.get('in-line')!();
    await page.locator('#run-title [data-status="completed"]').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('slot-wait').count()).toBe(0);
  });
});
