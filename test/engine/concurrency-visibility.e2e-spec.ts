import { setTimeout as delay } from 'node:timers/promises';
import type { FlowContext, FlowDefinition, GoTickEngine, RunSummary } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

/**
 * Why a queued run waits: RunView.waitingForSlot, on a real redis-server. A
 * run held back by its flow's concurrency cap says so (and on which key);
 * a run that holds its slot, sleeps, was handed back or retried does not.
 */

const byCustomer = { limit: 1, key: (input: { customer: string }) => input.customer };

describe('waitingForSlot: why a queued run waits', () => {
  const env = useEngines();
  let seq = 0;
  const prefix = () => `why${process.pid}x${++seq}`;

  it('100 runs of one key, limit 1, two nodes (hand-overs repeated): no run reads as waiting once it started, every view inside a run says running, lines are seen', async () => {
    const started = new Set<string>();
    const selfViews: Array<{ status: string; waiting: boolean }> = [];
    let reader!: GoTickEngine;
    const flow: FlowDefinition = {
      id: 'why/one-key',
      options: { concurrency: byCustomer },
      handler: async (ctx: FlowContext<{ customer: string }>) =>
        ctx.task('work', async () => {
          started.add(ctx.runId);
          // The run's own view, read while it holds the slot: the line is behind it.
          const view = (await reader.getRun(ctx.runId))!;
          selfViews.push({ status: view.status, waiting: 'waitingForSlot' in view });
          await delay(10);
        }),
    };
    const shared = { prefix: prefix(), worker: { concurrency: 8, lease: '2s' } } as const;
    reader = await env.harness.start([flow], shared);
    await env.harness.start([flow], shared);
    const ids = (await reader.triggerMany('why/one-key', Array.from({ length: 100 }, () => ({ input: { customer: 'customer-42' } })))).map((run) => run.runId);

    const seenWaiting = new Set<string>();
    let sightings = 0;
    const wrong: string[] = [];
    const done = Promise.all(ids.map((runId) => reader.waitForRun(runId, { timeout: '60s' })));
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      // A run that had started before this read began can never read as waiting in it.
      const startedBefore = new Set(started);
      const { runs } = await reader.listRuns({ flowId: 'why/one-key', limit: 200 });
      for (const run of runs as RunSummary[]) {
        if (!run.waitingForSlot) continue;
        sightings++;
        seenWaiting.add(run.runId);
        if (startedBefore.has(run.runId)) wrong.push(`${run.runId}: waiting after it started`);
        if (run.status !== 'queued' || run.waitingForSlot.key !== 'customer-42') wrong.push(`${run.runId}: ${run.status} ${JSON.stringify(run.waitingForSlot)}`);
      }
    }
    const ends = await done;
    expect(wrong).toEqual([]);
    expect(ends.map((run) => [run.status, 'waitingForSlot' in run])).toEqual(ids.map(() => ['completed', false]));
    expect(selfViews).toHaveLength(100);
    expect(selfViews.filter((view) => view.status !== 'running' || view.waiting)).toEqual([]);
    // With one slot and 100 runs, most of the line is seen waiting, many times over.
    expect(seenWaiting.size).toBeGreaterThanOrEqual(50);
    expect(sightings).toBeGreaterThan(seenWaiting.size);
  }, 90_000);

  it('a run that slept after holding its slot shows no line while asleep, and a new one (later since) when it wakes to a full cap', async () => {
    const gates = new Map<string, () => void>();
    const engine = await env.harness.start(
      [
        {
          id: 'why/nap',
          options: { concurrency: byCustomer },
          handler: async (ctx: FlowContext<{ customer: string; name: string }>) => {
            await ctx.task('before', () => undefined);
            if (ctx.input.name === 'napper') await ctx.sleep('nap', '300ms');
            await ctx.task('hold', () => new Promise<void>((resolve) => gates.set(ctx.input.name, resolve)));
          },
        },
      ],
      { prefix: prefix(), worker: { concurrency: 4, lease: '2s' } },
    );
    const napper = await engine.trigger('why/nap', { customer: 'customer-7', name: 'napper' });
    const asleep = await waitUntil(async () => {
      const run = await engine.getRun(napper.runId);
      return run?.status === 'sleeping' ? run : undefined;
    }, 'the first run to sleep, its slot given back');
    expect(asleep).not.toHaveProperty('waitingForSlot');
    // Its slot is free while it sleeps: another run of the key takes it and holds it past the wake-up.
    const holder = await engine.trigger('why/nap', { customer: 'customer-7', name: 'holder' });
    await waitUntil(() => gates.has('holder'), 'the second run to hold the slot');
    const woken = await waitUntil(async () => {
      const run = await engine.getRun(napper.runId);
      return run?.waitingForSlot ? run : undefined;
    }, 'the woken run to wait for the slot');
    expect(woken).toMatchObject({ status: 'queued', executions: 1, waitingForSlot: { key: 'customer-7' } });
    expect(Date.parse(woken.waitingForSlot!.since)).toBeGreaterThanOrEqual(Date.parse(asleep.wakeAt!));
    gates.get('holder')!();
    await waitUntil(() => gates.has('napper'), 'the woken run to get the slot');
    expect(await engine.getRun(napper.runId)).toMatchObject({ status: 'running', executions: 2 });
    expect(await engine.getRun(napper.runId)).not.toHaveProperty('waitingForSlot');
    gates.get('napper')!();
    await engine.waitForRun(holder.runId, { timeout: '10s' });
    await engine.waitForRun(napper.runId, { timeout: '10s' });
  });

  it('a run that waited, started and was handed back by a shutdown is queued without a line; so is a run retried after a cancel in line', async () => {
    const shared = { prefix: prefix() };
    const gates = new Map<number, () => void>();
    const worker = await env.harness.start(
      [
        {
          id: 'why/handback',
          options: { concurrency: byCustomer },
          handler: async (ctx: FlowContext<{ customer: string; n: number }>) =>
            ctx.task('work', (task) => new Promise<void>((resolve) => {
              gates.set(ctx.input.n, resolve);
              // Handed back at shutdown: the attempt ends with the execution.
              task.signal.addEventListener('abort', () => resolve());
            })),
        },
      ],
      { ...shared, worker: { concurrency: 4, lease: '2s' }, shutdownTimeout: '100ms' },
    );
    // A trigger-only node reads and controls the runs once the worker is gone.
    const reader = await env.harness.start([], { ...shared, worker: false });
    const inLine = async (runId: string) => waitUntil(async () => (await reader.getRun(runId))?.waitingForSlot, `run ${runId} to wait in line`);
    const first = await worker.trigger('why/handback', { customer: 'customer-9', n: 1 });
    await waitUntil(() => gates.has(1), 'the first run to hold the slot');
    const second = await worker.trigger('why/handback', { customer: 'customer-9', n: 2 });
    // In line before the third is created: the line is by creation time, so the second is next.
    await inLine(second.runId);
    const third = await worker.trigger('why/handback', { customer: 'customer-9', n: 3 });
    await inLine(third.runId);

    gates.get(1)!();
    await waitUntil(() => gates.has(2), 'the second run to start');
    expect(await reader.waitForRun(first.runId, { timeout: '10s' })).toMatchObject({ status: 'completed' });
    await worker.close();

    // Queued again by the hand-back, not by a full cap: no line is named.
    const handedBack = (await reader.getRun(second.runId))!;
    expect(handedBack).toMatchObject({ status: 'queued' });
    expect(handedBack).not.toHaveProperty('waitingForSlot');

    expect(await reader.cancel(third.runId, { reason: 'not now' })).toMatchObject({ status: 'cancelled' });
    expect(await reader.getRun(third.runId)).not.toHaveProperty('waitingForSlot');
    await reader.retry(third.runId);
    const retried = (await reader.getRun(third.runId))!;
    expect(retried).toMatchObject({ status: 'queued', retries: 1 });
    expect(retried).not.toHaveProperty('waitingForSlot');
  });
});
