import { benchClient, closeClient } from '../baselines/connections';
import { GoTickModel } from '../baselines/gotick-model';
import { RawBullmq } from '../baselines/raw-bullmq';
import { stepsFlow } from '../flows/steps-flow';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { fmt, median, pairedRatio, percentile } from '../support/stats';
import { CountDown, monoNow } from '../support/timing';

interface Batch {
  /** Each awaited call, in ms. */
  latencies: number[];
  /** Runs finished per second, from the first trigger to the last run's end (0 for the HSET floor). */
  runsPerSec: number;
}

/**
 * Sequential triggers, as an HTTP handler makes them: each trigger awaited
 * before the next. Two questions: what one trigger costs against one awaited
 * HSET (judged idle, on an engine with no worker, so neither competes with
 * runs executing), and how many 10-step runs per second a stream of awaited
 * triggers gets through, against the GoTick model fed the same way.
 */
export async function sequentialTriggers({ url, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { runs, steps, rounds } = config.sequentialTriggers;
  let done = new CountDown(0);
  const arrive = () => done.arrive();
  const engine = await startEngine(url, 'bench-seq', [stepsFlow('bench/seq', steps, arrive)], { worker: { concurrency: 50 } });
  const producerOnly = await startEngine(url, 'bench-seq-idle', [stepsFlow('bench/seq', steps)], { worker: false });
  const model = new GoTickModel(url, 'bench-seq-model', steps, { onRunDone: arrive });
  const floorClient = benchClient(url);
  // No worker: what one BullMQ add costs, the least any trigger built on BullMQ can cost.
  const raw = new RawBullmq<{ n: number }>(url, 'bench-seq-raw', () => undefined);
  let seq = 0;
  const timedLoop = async (call: () => Promise<unknown>, finished: boolean): Promise<Batch> => {
    done = new CountDown(finished ? runs : 0);
    const latencies: number[] = [];
    const began = monoNow();
    for (let i = 0; i < runs; i++) {
      const t0 = monoNow();
      await call();
      latencies.push(monoNow() - t0);
    }
    if (!finished) return { latencies, runsPerSec: 0 };
    await done.wait(`${runs} runs`, 60_000 + runs * steps * 10);
    return { latencies, runsPerSec: runs / ((monoNow() - began) / 1000) };
  };
  const record = JSON.stringify({ kind: 'memo', status: 'completed', attempts: 1, seq: 0, result: '0', finishedAt: Date.now() });
  const variants = {
    'GoTick, running': () => timedLoop(() => engine.trigger('bench/seq', undefined, { runId: `seq-${seq++}` }), true),
    'GoTick model, running': () => timedLoop(() => model.trigger(`seq-model-${seq++}`), true),
    'GoTick, idle': () => timedLoop(() => producerOnly.trigger('bench/seq', undefined, { runId: `seq-idle-${seq++}` }), false),
    'floor: awaited HSET': () => timedLoop(() => floorClient.hset(`bench-seq-floor:{${seq++}}`, 's0', record), false),
    'raw BullMQ add, idle': () => timedLoop(() => raw.add({ n: seq++ }), false),
  };
  try {
    await model.startWorker(50);
    // Warm-up: script loading and JIT are not what a trigger costs.
    for (const run of Object.values(variants)) await run();
    const samples = await interleave(rounds, variants, (variant, round, b) =>
      log(`  round ${round + 1} ${variant}: p50 ${fmt(percentile(b.latencies, 50))} ms${b.runsPerSec ? `, ${fmt(b.runsPerSec)} runs/s` : ''}`),
    );
    const p50s = (variant: keyof typeof samples) => samples[variant].map((b) => percentile(b.latencies, 50));
    const p99s = (variant: keyof typeof samples) => samples[variant].map((b) => percentile(b.latencies, 99));
    const rates = (variant: keyof typeof samples) => samples[variant].map((b) => b.runsPerSec);
    const vsFloor = pairedRatio(p50s('GoTick, idle'), p50s('floor: awaited HSET'));
    const vsModel = pairedRatio(rates('GoTick, running'), rates('GoTick model, running'));
    return {
      id: 'sequential-triggers',
      title: `Sequential triggers: ${runs} awaited triggers of a ${steps}-step flow per batch (${rounds} interleaved rounds)`,
      figures: [
        { variant: 'GoTick, idle (no worker)', metric: 'trigger p50', value: median(p50s('GoTick, idle')), unit: 'ms', rounds: p50s('GoTick, idle') },
        { variant: 'GoTick, idle (no worker)', metric: 'trigger p99', value: median(p99s('GoTick, idle')), unit: 'ms' },
        { variant: 'floor: awaited HSET', metric: 'p50', value: median(p50s('floor: awaited HSET')), unit: 'ms', rounds: p50s('floor: awaited HSET') },
        { variant: 'raw BullMQ add, idle (no worker)', metric: 'p50', value: median(p50s('raw BullMQ add, idle')), unit: 'ms', rounds: p50s('raw BullMQ add, idle') },
        { variant: 'GoTick, worker running the runs', metric: 'trigger p50', value: median(p50s('GoTick, running')), unit: 'ms' },
        { variant: 'GoTick model, worker running the runs', metric: 'trigger p50', value: median(p50s('GoTick model, running')), unit: 'ms' },
        { variant: 'GoTick', metric: 'runs/s, sequential triggers', value: median(rates('GoTick, running')), unit: 'runs/s', rounds: rates('GoTick, running') },
        { variant: 'GoTick model', metric: 'runs/s, sequential triggers', value: median(rates('GoTick model, running')), unit: 'runs/s', rounds: rates('GoTick model, running') },
      ],
      ratios: [
        { label: 'GoTick trigger p50 / awaited HSET p50, idle, median of per-round ratios (judged)', value: vsFloor },
        { label: 'GoTick trigger p50 / raw BullMQ add p50, idle, median of per-round ratios', value: pairedRatio(p50s('GoTick, idle'), p50s('raw BullMQ add, idle')) },
        { label: 'raw BullMQ add p50 / awaited HSET p50, idle (the floor of a BullMQ-based trigger)', value: pairedRatio(p50s('raw BullMQ add, idle'), p50s('floor: awaited HSET')) },
        { label: 'GoTick trigger p50 under load / awaited HSET p50', value: pairedRatio(p50s('GoTick, running'), p50s('floor: awaited HSET')) },
        { label: 'GoTick / GoTick model runs/s with sequential triggers, median of per-round ratios (judged)', value: vsModel },
      ],
      targets: [
        { target: 'trigger p50 <= 1.5x one awaited HSET', actual: `${fmt(vsFloor)}x`, pass: vsFloor <= 1.5 },
        { target: `${steps}-step runs/s with sequential triggers >= 2x GoTick model`, actual: `${fmt(vsModel)}x`, pass: vsModel >= 2 },
      ],
      notes: [],
    };
  } finally {
    await engine.close();
    await producerOnly.close();
    await model.close();
    await closeClient(floorClient);
    await raw.close();
  }
}
