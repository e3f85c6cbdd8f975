import { WORKER_FLOWS, startWorkerProcess, useWorkerProcesses } from '../support/child-worker';
import { waitUntil } from '../support/wait-until';

const RUNS = 400;
const CONCURRENCY = 5;

/**
 * A node SIGKILLed while its timer pump is moving wake-ups into the queue:
 * some it has claimed and enqueued, some claimed only, some it was running,
 * the rest still wait in the wakes set. Another node must wake every one.
 */
describe('the timer pump when its node is killed mid-stream', () => {
  const env = useWorkerProcesses('pumpkill');

  it(`loses none of ${RUNS} wake-ups and repeats no step but those in flight`, async () => {
    const first = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'first', concurrency: CONCURRENCY, lease: '1s' });
    // One wake-up every 4 ms for 1.6 s, starting once every run has surely parked.
    const at = Date.now() + 3000;
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, (_, j) => env.trigger.trigger(WORKER_FLOWS.alarm, { at: at + (i + j) * 4 })));
      runIds.push(...batch.map((r) => r.runId));
    }
    const wakes = `{${env.prefix}:timers}:wakes`;
    await waitUntil(async () => (await env.redis.client.zcard(wakes)) === RUNS, 'every run to park', at - Date.now());

    // Killed in the middle of the stream of wake-ups.
    await waitUntil(() => Date.now() >= at + 700, 'the stream of wake-ups to be under way', 5000);
    await first.kill();
    const left = await env.redis.client.zcard(wakes);
    await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'second', concurrency: CONCURRENCY, lease: '1s' });

    const views = await Promise.all(runIds.map((runId) => env.trigger.waitForRun(runId, { timeout: '60s' })));
    expect(views.filter((run) => run.status !== 'completed')).toEqual([]);
    const effects = await Promise.all(runIds.map((runId) => env.effects(runId, ['before', 'after'])));
    expect(effects.filter((e) => e.before !== 1)).toEqual([]);
    const after = effects.map((e) => e.after);
    // Only a step in flight on the killed node runs twice: at most one per slot.
    expect({ never: after.filter((n) => n === 0).length, more: after.filter((n) => n > 2).length }).toEqual({ never: 0, more: 0 });
    expect(after.filter((n) => n === 2).length).toBeLessThanOrEqual(CONCURRENCY);
    // The kill did fall mid-stream: some wake-ups were done by the first node, some were left to the second.
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(RUNS);
  }, 120_000);
});
