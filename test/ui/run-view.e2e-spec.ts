import { Injectable } from '@nestjs/common';
import type { Page } from 'playwright-core';
import { Flow, NonRetriableError, TickService, type FlowContext } from '../../lib';
import { waitUntil } from '../support/wait-until';
import { screenshot, type Watched, useSignedInDashboard } from './support/dashboard';

const TOKEN = 'ui-run-token';
const fragile = { broken: true };

@Injectable()
class TourFlows {
  /** Every kind of step the run view draws: a memo, a wait of three, a step that fails twice, a sleep, a signal wait. */
  @Flow('ui/tour')
  async tour(ctx: FlowContext) {
    const order = await ctx.memo('load', () => ({ id: 'o-1', lines: 3 }));
    const parts = await ctx.wait(
      ctx.asyncArray('fetch', [1, 2, 3], async (_task, n) => {
        await new Promise((resolve) => setTimeout(resolve, 40 * n));
        return n * 10;
      }),
    );
    await ctx.task(
      'flaky',
      (task) => {
        if (task.attempt < 3) throw new Error(`flaky attempt ${task.attempt}`);
      },
      { retries: 3, backoff: '200ms' },
    );
    await ctx.sleep('pause', '500ms');
    const approval = await ctx.waitForSignal<{ by: string }>('approval', 'approve');
    return { order, parts, approvedBy: approval?.payload.by };
  }

  /** Fails once, then waits out a long backoff: the run view shows the step retrying. */
  @Flow('ui/backoff')
  async backoff(ctx: FlowContext) {
    await ctx.task(
      'call',
      (task) => {
        if (task.attempt === 1) throw new Error('first call fails');
      },
      { retries: 1, backoff: '1m' },
    );
  }

  @Flow('ui/nap')
  async nap(ctx: FlowContext<{ ms: number }>) {
    await ctx.sleep('nap', ctx.input.ms);
    return { rested: ctx.input.ms };
  }

  @Flow('ui/fragile')
  async fragile(ctx: FlowContext) {
    return ctx.memo('call', () => {
      if (fragile.broken) throw new NonRetriableError('upstream is down');
      return 'fixed';
    });
  }
}

describe('dashboard: a run, its steps and the actions on it', () => {
  const session = useSignedInDashboard({ token: TOKEN, prefix: 'uirun', providers: [TourFlows], module: { limits: { maxPayloadBytes: 4096 } } });
  let ui: string;
  let ticks: TickService;
  let watched: Watched;
  let page: Page;
  beforeAll(() => ({ ui, ticks, watched, page } = session));

  const openRun = async (runId: string) => {
    await page.goto(`${ui}#/runs/${runId}`);
    await page.getByRole('heading', { name: new RegExp(runId) }).waitFor();
  };
  const runStatus = (page: Page) => page.locator('#run-title [data-status]').getAttribute('data-status');
  const stepRow = (key: string) => page.locator(`[data-step="${key}"]`);

  afterEach(() => {
    expect(watched.consoleErrors.filter((line) => !/\/schedules$/.test(line))).toEqual([]);
  });

  it('shows a wait group side by side, retries with their backoffs, a sleep and a signal wait, then the signal sent from the page', async () => {
    const { runId } = await ticks.trigger('ui/tour', {});
    await waitUntil(async () => (await ticks.getRun(runId))?.steps.some((s) => s.key === 'approval' && s.status === 'waiting'), 'the run to wait for its signal');
    await openRun(runId);
    expect(await runStatus(page)).toBe('sleeping');

    // The three steps of the wait sit under one header, each with a bar.
    await page.getByText('wait #1: 3 steps side by side').waitFor();
    for (const key of ['fetch:0', 'fetch:1', 'fetch:2']) {
      expect(await stepRow(key).locator('[data-segment="attempt"]').count()).toBe(1);
    }
    // The fetches ran at once: their bars overlap in time (each starts before the others end).
    const run = (await ticks.getRun(runId))!;
    const fetches = run.steps.filter((s) => s.key.startsWith('fetch:'));
    expect(new Set(fetches.map((s) => s.waitGroup))).toEqual(new Set([1]));
    expect(Math.max(...fetches.map((s) => Date.parse(s.startedAt!)))).toBeLessThan(Math.min(...fetches.map((s) => Date.parse(s.finishedAt!))));

    // Two failed attempts, the backoffs after them, then the attempt that worked.
    const flaky = stepRow('flaky');
    expect(await flaky.locator('[data-segment="failed"]').count()).toBe(2);
    expect(await flaky.locator('[data-segment="backoff"]').count()).toBe(2);
    expect(await flaky.locator('[data-segment="attempt"]').count()).toBe(1);
    expect(await flaky.textContent()).toContain('2 retries');
    expect(await stepRow('pause').locator('[data-segment="sleep"]').count()).toBe(1);
    expect(await stepRow('approval').textContent()).toContain('waiting for "approve"');
    expect(await stepRow('approval').locator('[data-status]').first().getAttribute('data-status')).toBe('waiting');

    // A step's result and errors open below the timeline.
    await flaky.click();
    const detail = page.getByTestId('step-detail');
    await detail.getByText('flaky attempt 1').first().waitFor();
    expect(await detail.textContent()).toContain('flaky attempt 2');
    await stepRow('load').focus();
    await page.keyboard.press('Enter');
    expect(await detail.textContent()).toContain('"id": "o-1"');

    // The graph: start, load, three fetches and their join, flaky, pause, approval, end.
    await page.locator('.react-flow__node').first().waitFor();
    expect(await page.locator('.react-flow__node').count()).toBe(10);
    expect(await page.locator('.react-flow__node', { hasText: 'wait #1 joined' }).count()).toBe(1);
    await screenshot(page, 'run-waiting');

    // A payload that is not JSON is refused before anything is sent.
    const signalsBefore = watched.requests.filter((r) => r.includes('/signals/')).length;
    expect(await page.getByLabel('Signal name').inputValue()).toBe('approve');
    await page.getByLabel('Payload (JSON, optional)').fill('{ by: ana');
    await page.getByText('Not valid JSON').waitFor();
    expect(await page.getByRole('button', { name: 'Send signal' }).isDisabled()).toBe(true);
    await page.getByLabel('Payload (JSON, optional)').fill('{ "by": "ana" }');
    await page.getByRole('button', { name: 'Send signal' }).click();
    await page.getByTestId('signal-outcome').getByText('Signal “approve” sent.').waitFor();
    expect(watched.requests.filter((r) => r.includes('/signals/')).length).toBe(signalsBefore + 1);

    // The run ends on its own, and the page follows without a reload.
    await waitUntil(async () => (await runStatus(page)) === 'completed', 'the page to show the run completed', 10_000);
    expect(await page.locator('.io').textContent()).toContain('"approvedBy": "ana"');
    await screenshot(page, 'run-completed');
  });

  it('shows a step waiting out its backoff as retrying, with its failed attempt and when it tries again', async () => {
    const { runId } = await ticks.trigger('ui/backoff', {});
    await waitUntil(async () => (await ticks.getRun(runId))?.steps[0]?.status === 'retrying', 'the step to wait for its retry');
    await openRun(runId);
    const call = stepRow('call');
    expect(await call.locator('[data-status]').first().getAttribute('data-status')).toBe('retrying');
    expect(await call.locator('[data-segment="failed"]').count()).toBe(1);
    expect(await call.locator('[data-segment="backoff"]').count()).toBe(1);
    expect(await call.textContent()).toContain('backoff until');
    expect(await call.textContent()).toContain('1 retry');
    await ticks.cancel(runId);
  });

  it('follows a sleeping run to completed without a reload', async () => {
    const { runId } = await ticks.trigger('ui/nap', { ms: 1500 });
    await openRun(runId);
    await page.evaluate('window.__sameDocument = true');
    await waitUntil(async () => (await runStatus(page)) === 'sleeping', 'the page to show the run sleeping');
    expect(await stepRow('nap').locator('[data-segment="sleep"]').count()).toBe(1);
    const ended = await ticks.waitForRun(runId, { timeout: '10s' });
    expect(ended.status).toBe('completed');
    const endedAt = Date.now();
    await waitUntil(async () => (await runStatus(page)) === 'completed', 'the page to show the run completed', 5000);
    // A live run is read again every second: the change shows within about that.
    expect(Date.now() - endedAt).toBeLessThan(2000);
    expect(await page.evaluate('window.__sameDocument')).toBe(true);
  });

  it('cancels a sleeping run from the page, with the reason', async () => {
    const { runId } = await ticks.trigger('ui/nap', { ms: 60_000 });
    await waitUntil(async () => (await ticks.getRun(runId))?.status === 'sleeping', 'the run to sleep');
    await openRun(runId);
    await page.getByLabel('Reason (optional)').fill('customer asked');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByTestId('cancel-outcome').getByText('Run is cancelled.').waitFor();
    await waitUntil(async () => (await runStatus(page)) === 'cancelled', 'the page to show the run cancelled');
    expect(await page.locator('.io').textContent()).toContain('RunCancelledError: customer asked');
    expect((await ticks.getRun(runId))!.status).toBe('cancelled');
  });

  it('retries a failed run from the page', async () => {
    fragile.broken = true;
    const { runId } = await ticks.trigger('ui/fragile', {});
    expect((await ticks.waitForRun(runId)).status).toBe('failed');
    await openRun(runId);
    expect(await page.locator('.io').textContent()).toContain('upstream is down');
    await screenshot(page, 'run-failed');
    fragile.broken = false;
    await page.getByRole('button', { name: 'Retry run' }).click();
    await page.getByTestId('retry-outcome').getByText('Run is queued again.').waitFor();
    await waitUntil(async () => (await runStatus(page)) === 'completed', 'the page to show the retried run completed', 10_000);
    expect(await page.locator('.io').textContent()).toContain('fixed');
    expect(await page.locator('.facts').first().textContent()).toContain('Retried1×');
  });

  it('triggers a run with JSON input checked before sending, then opens it', async () => {
    await page.goto(`${ui}#/flows`);
    await page.getByRole('heading', { name: 'Trigger a run' }).waitFor();
    await page.getByLabel('Flow', { exact: true }).selectOption('ui/nap');
    const posts = () => watched.requests.filter((r) => r.startsWith('POST') && r.includes('/runs')).length;
    const before = posts();
    await page.getByLabel('Input (JSON)').fill('{ "ms": 10,, }');
    await page.getByText('Not valid JSON').waitFor();
    expect(await page.getByRole('button', { name: 'Trigger' }).isDisabled()).toBe(true);
    await page.getByLabel('Input (JSON)').fill('{ "ms": 10 }');
    await page.getByRole('button', { name: 'Trigger' }).click();
    await page.waitForURL(/#\/runs\/[A-Za-z0-9_.-]+$/);
    expect(posts()).toBe(before + 1);
    await waitUntil(async () => (await runStatus(page)) === 'completed', 'the triggered run to complete on the page', 10_000);
    expect(await page.locator('.io').textContent()).toContain('"rested": 10');

    // What the server refuses is shown beside the form, and the page stays where it is.
    await page.goto(`${ui}#/flows`);
    await page.getByRole('heading', { name: 'Trigger a run' }).waitFor();
    await page.getByLabel('Flow', { exact: true }).selectOption('ui/nap');
    await page.getByLabel('Input (JSON)').fill(JSON.stringify({ ms: 10, pad: 'x'.repeat(5000) }));
    await page.getByRole('button', { name: 'Trigger' }).click();
    await page.getByTestId('trigger-error').waitFor();
    expect(await page.getByTestId('trigger-error').textContent()).toMatch(/Trigger failed: .*(too large|bytes)/i);
    expect(page.url()).toMatch(/#\/flows$/);
    // The 413 of that refusal is what the browser logged.
    watched.consoleErrors.splice(0, watched.consoleErrors.length, ...watched.consoleErrors.filter((line) => !/status of 413/.test(line)));
    await screenshot(page, 'flows');
  });
});
