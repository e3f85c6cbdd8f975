import { RawBullmq } from '../baselines/raw-bullmq';
import { stepsFlow } from '../flows/steps-flow';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { commandStats, diffCommandStats, totals } from '../support/redis-info';
import { fmt, median, pairedRatio } from '../support/stats';
import { monoNow } from '../support/timing';

/**
 * Bulk: N runs enqueued by one triggerMany call (run records, index and
 * timer entries, one job each) against BullMQ's own addBulk of N empty jobs.
 * No worker consumes, so only the enqueueing is timed; each round writes
 * fresh ids.
 */
export async function bulkTrigger({ url, observer, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { runs, rounds } = config.bulk;
  const engine = await startEngine(url, 'bench-bulk', [stepsFlow('bench/bulk', 10)], { worker: false });
  const raw = new RawBullmq(url, 'bench-bulk-raw', () => undefined);
  let round = 0;
  const commands: Record<string, number[]> = { gotick: [], 'raw BullMQ addBulk': [] };
  const timed = async (variant: string, call: () => Promise<unknown>) => {
    const before = await commandStats(observer);
    const began = monoNow();
    await call();
    const ms = monoNow() - began;
    commands[variant].push(totals(diffCommandStats(before, await commandStats(observer))).calls / runs);
    return ms;
  };
  try {
    const variants = {
      gotick: () => {
        const r = round++;
        return timed('gotick', () => engine.triggerMany('bench/bulk', Array.from({ length: runs }, (_, i) => ({ input: { i }, runId: `b${r}-${i}` }))));
      },
      'raw BullMQ addBulk': () => timed('raw BullMQ addBulk', () => raw.queue.addBulk(Array.from({ length: runs }, (_, i) => ({ name: 'job', data: { i } })))),
    };
    // Warm-up, untimed in the results.
    await variants.gotick();
    await variants['raw BullMQ addBulk']();
    for (const list of Object.values(commands)) list.length = 0;
    const samples = await interleave(rounds, variants, (variant, r, ms) => log(`  round ${r + 1} ${variant}: ${fmt(ms)} ms`));
    const ratio = pairedRatio(samples.gotick, samples['raw BullMQ addBulk']);
    return {
      id: 'bulk-trigger',
      title: `Bulk: ${runs} runs enqueued in one triggerMany vs BullMQ addBulk of ${runs} jobs (${rounds} interleaved rounds)`,
      figures: [
        { variant: 'GoTick triggerMany', metric: `time for ${runs}`, value: median(samples.gotick), unit: 'ms', rounds: samples.gotick },
        { variant: 'raw BullMQ addBulk', metric: `time for ${runs}`, value: median(samples['raw BullMQ addBulk']), unit: 'ms', rounds: samples['raw BullMQ addBulk'] },
        { variant: 'GoTick triggerMany', metric: 'runs/s enqueued', value: runs / (median(samples.gotick) / 1000), unit: 'runs/s' },
        { variant: 'GoTick triggerMany', metric: 'Redis commands per run', value: median(commands.gotick), unit: 'commands' },
        { variant: 'raw BullMQ addBulk', metric: 'Redis commands per job', value: median(commands['raw BullMQ addBulk']), unit: 'commands' },
      ],
      ratios: [{ label: 'GoTick triggerMany / BullMQ addBulk time, median of per-round ratios (judged)', value: ratio }],
      targets: [{ target: `${runs} runs enqueued in <= 2x BullMQ addBulk`, actual: `${fmt(ratio)}x`, pass: ratio <= 2 }],
      notes: [],
    };
  } finally {
    await engine.close();
    await raw.close();
  }
}
