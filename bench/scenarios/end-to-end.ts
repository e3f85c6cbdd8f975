import { benchClient, closeClient } from '../baselines/connections';
import { hsetSteps } from '../baselines/hset-floor';
import { RawBullmq } from '../baselines/raw-bullmq';
import { stepsFlow } from '../flows/steps-flow';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { fmt, percentile } from '../support/stats';
import { monoNow, Signals } from '../support/timing';

/**
 * End-to-end latency, as a caller sees it: trigger a 10-step run, then
 * waitForRun, one run at a time on an idle worker. The floor is one awaited
 * HSET; a run cannot cost less than its step writes plus a few fixed round
 * trips (trigger, pickup, claim, finish), so the target is a multiple of it.
 * Also shown: the 10 HSETs of the step writes alone.
 */
export async function endToEnd({ url, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { samples, steps } = config.endToEnd;
  const engine = await startEngine(url, 'bench-e2e', [stepsFlow('bench/e2e', steps)], { worker: { concurrency: 10 } });
  const floorClient = benchClient(url);
  // The least a queued run can take end to end on BullMQ: add an empty job, hear it completed.
  const completed = new Signals<void>();
  const raw = new RawBullmq<{ id: string }>(url, 'bench-e2e-raw', () => undefined);
  let seq = 0;
  try {
    await raw.startWorker(10, ({ id }) => completed.fire(id));
    const all = await interleave(
      samples + 10,
      {
        gotick: async () => {
          const began = monoNow();
          const run = await engine.trigger('bench/e2e', undefined, { runId: `e2e-${seq++}` });
          await engine.waitForRun(run, { timeout: '30s' });
          return monoNow() - began;
        },
        'raw BullMQ: add -> completed': async () => {
          const id = `raw-${seq++}`;
          const began = monoNow();
          await raw.add({ id });
          await completed.wait(id, 30_000);
          return monoNow() - began;
        },
        'floor: awaited HSET': async () => {
          const began = monoNow();
          await hsetSteps(floorClient, `bench-e2e-floor:{${seq++}}`, 1);
          return monoNow() - began;
        },
        [`${steps} awaited HSETs`]: async () => {
          const began = monoNow();
          await hsetSteps(floorClient, `bench-e2e-floor:{${seq++}}`, steps);
          return monoNow() - began;
        },
      } as Record<string, () => Promise<number>>,
      (variant, round, ms) => {
        if ((round + 1) % Math.max(1, Math.floor(samples / 3)) === 0) log(`  sample ${round + 1} ${variant}: ${fmt(ms)} ms`);
      },
    );
    // The first rounds load scripts, open the waiters' subscription and warm the JIT.
    const kept = (variant: string) => all[variant].slice(10);
    const p50 = percentile(kept('gotick'), 50);
    const floor = percentile(kept('floor: awaited HSET'), 50);
    const tenFloor = percentile(kept(`${steps} awaited HSETs`), 50);
    return {
      id: 'end-to-end',
      title: `End-to-end: trigger -> waitForRun resolved, ${steps}-step run, idle worker (${samples} samples, interleaved)`,
      figures: [
        { variant: 'GoTick', metric: 'trigger -> waitForRun, p50', value: p50, unit: 'ms' },
        { variant: 'GoTick', metric: 'trigger -> waitForRun, p99', value: percentile(kept('gotick'), 99), unit: 'ms' },
        { variant: 'raw BullMQ: add -> completed (empty job)', metric: 'p50', value: percentile(kept('raw BullMQ: add -> completed'), 50), unit: 'ms' },
        { variant: 'floor: awaited HSET', metric: 'p50', value: floor, unit: 'ms' },
        { variant: `floor: ${steps} awaited HSETs`, metric: 'p50', value: tenFloor, unit: 'ms' },
      ],
      ratios: [
        { label: 'GoTick p50 / one awaited HSET p50 (judged)', value: p50 / floor },
        { label: `GoTick p50 / ${steps} awaited HSETs p50`, value: p50 / tenFloor },
        { label: 'raw BullMQ empty job add -> completed p50 / one awaited HSET p50 (the floor of a BullMQ-queued run)', value: percentile(kept('raw BullMQ: add -> completed'), 50) / floor },
      ],
      targets: [{ target: `trigger -> waitForRun p50 <= 15x one awaited HSET`, actual: `${fmt(p50 / floor)}x`, pass: p50 / floor <= 15 }],
      notes: [],
    };
  } finally {
    await engine.close();
    await closeClient(floorClient);
    await raw.close();
  }
}
