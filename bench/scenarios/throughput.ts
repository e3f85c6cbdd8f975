import { GoTickModel } from '../baselines/gotick-model';
import { RawBullmq } from '../baselines/raw-bullmq';
import { stepsFlow } from '../flows/steps-flow';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { commandStats, describePer, diffCommandStats, redisCpuSeconds, totals, type CommandStats } from '../support/redis-info';
import { describeRoundTrips, RoundTripTrace } from '../support/round-trips';
import { fmt, median, pairedRatio } from '../support/stats';
import { CountDown, monoNow, pool, sleep } from '../support/timing';

interface Batch {
  runsPerSec: number;
  /** Commands Redis executed per run, Lua-internal ones included. */
  commandsPerRun: number;
  redisUsecPerRun: number;
  redisCpuMsPerRun: number;
  nodeCpuMsPerRun: number;
  stats: CommandStats;
}

/**
 * 2. Throughput: R runs of an S-step flow through a worker of concurrency C,
 * against raw BullMQ (one empty job per run) and the GoTick model (one job
 * per step), each fed by the same producer (P triggers in flight). Besides
 * runs/s it records where the CPU went (this Node process vs redis-server),
 * and an untimed traced pass names every round trip a run costs.
 */
export async function throughput({ url, observer, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { runs, steps, concurrency, rounds, traceRuns } = config.throughput;
  const producers = config.producerConcurrency;
  let done = new CountDown(0);
  const arrive = () => done.arrive();
  const engine = await startEngine(url, 'bench-tp', [stepsFlow('bench/ten', steps, arrive)], { worker: { concurrency } });
  const raw = new RawBullmq(url, 'bench-tp-raw', () => undefined);
  const model = new GoTickModel(url, 'bench-tp-model', steps, { onRunDone: arrive });
  let seq = 0;
  const start = {
    gotick: () => engine.trigger('bench/ten', undefined, { runId: `tp-${seq++}` }),
    'raw BullMQ': () => raw.add({ n: seq++ }),
    'GoTick model': () => model.trigger(`tp-${seq++}`),
  };
  const batch = async (variant: keyof typeof start, count: number): Promise<Batch> => {
    done = new CountDown(count);
    const stats = await commandStats(observer);
    const redisCpu = await redisCpuSeconds(observer);
    const cpu = process.cpuUsage();
    const began = monoNow();
    await pool(producers, count, () => start[variant]());
    await done.wait(`${count} ${variant} runs`, 30_000 + count * steps * 10);
    const elapsed = monoNow() - began;
    const nodeCpu = process.cpuUsage(cpu);
    const delta = diffCommandStats(stats, await commandStats(observer));
    const sum = totals(delta);
    return {
      runsPerSec: count / (elapsed / 1000),
      commandsPerRun: sum.calls / count,
      redisUsecPerRun: sum.usec / count,
      redisCpuMsPerRun: (((await redisCpuSeconds(observer)) - redisCpu) * 1000) / count,
      nodeCpuMsPerRun: (nodeCpu.user + nodeCpu.system) / 1000 / count,
      stats: delta,
    };
  };
  try {
    await raw.startWorker(concurrency, arrive);
    await model.startWorker(concurrency);
    // A short warm-up of each, so JIT and script loading are not billed to round 1.
    for (const variant of Object.keys(start) as Array<keyof typeof start>) await batch(variant, Math.min(100, runs));
    const samples = await interleave(
      rounds,
      {
        gotick: () => batch('gotick', runs),
        'raw BullMQ': () => batch('raw BullMQ', runs),
        'GoTick model': () => batch('GoTick model', runs),
      },
      (variant, round, b) => log(`  round ${round + 1} ${variant}: ${fmt(b.runsPerSec)} runs/s`),
    );
    const perSec = (variant: keyof typeof samples) => samples[variant].map((b) => b.runsPerSec);
    const gotick = median(perSec('gotick'));
    const rawRate = median(perSec('raw BullMQ'));
    const modelRate = median(perSec('GoTick model'));
    const notes: string[] = [];
    for (const variant of Object.keys(samples) as Array<keyof typeof samples>) {
      const list = samples[variant];
      const mid = [...list].sort((a, b) => a.runsPerSec - b.runsPerSec)[Math.floor((list.length - 1) / 2)];
      notes.push(
        `${variant} (median round), per run: Node CPU ${fmt(mid.nodeCpuMsPerRun)} ms, redis-server CPU ${fmt(mid.redisCpuMsPerRun)} ms ` +
          `(commandstats ${fmt(mid.redisUsecPerRun / 1000)} ms), ${fmt(mid.commandsPerRun)} Redis commands incl. inside Lua: ${describePer(mid.stats, runs)}`,
      );
    }
    const trace = new RoundTripTrace(observer);
    for (const variant of Object.keys(start) as Array<keyof typeof start>) {
      await trace.start();
      await batch(variant, traceRuns);
      await sleep(100);
      const trips = await trace.stop();
      notes.push(
        `${variant}, round trips per run (SLOWLOG-traced pass of ${traceRuns} runs, untimed): ${fmt(trips.total / traceRuns)} ` +
          `= ${describeRoundTrips(trips, traceRuns)}`,
      );
    }
    // Judged per round: adjacent batches share the machine's momentary speed (see pairedRatio).
    const vsModel = pairedRatio(perSec('gotick'), perSec('GoTick model'));
    const vsRaw = pairedRatio(perSec('gotick'), perSec('raw BullMQ'));
    return {
      id: 'throughput',
      title: `2. Throughput: ${runs} runs of a ${steps}-step flow, worker concurrency ${concurrency}, ${producers} triggers in flight (${rounds} interleaved rounds)`,
      figures: [
        { variant: 'GoTick', metric: 'runs/s', value: gotick, unit: 'runs/s', rounds: perSec('gotick') },
        { variant: 'GoTick', metric: 'steps/s', value: gotick * steps, unit: 'steps/s' },
        { variant: 'raw BullMQ (1 empty job per run)', metric: 'runs/s', value: rawRate, unit: 'runs/s', rounds: perSec('raw BullMQ') },
        { variant: 'GoTick model (1 job per step)', metric: 'runs/s', value: modelRate, unit: 'runs/s', rounds: perSec('GoTick model') },
        { variant: 'GoTick model (1 job per step)', metric: 'steps/s', value: modelRate * steps, unit: 'steps/s' },
      ],
      ratios: [
        { label: 'GoTick / GoTick model runs/s, median of per-round ratios (judged)', value: vsModel },
        { label: 'GoTick / raw BullMQ runs/s, median of per-round ratios (judged)', value: vsRaw },
        { label: 'GoTick / GoTick model runs/s, ratio of medians', value: gotick / modelRate },
        { label: 'GoTick / raw BullMQ runs/s, ratio of medians', value: gotick / rawRate },
      ],
      targets: [
        { target: `${steps}-step runs/s >= 5x GoTick model`, actual: `${fmt(vsModel)}x`, pass: vsModel >= 5 },
        { target: `${steps}-step runs/s >= 40% of raw BullMQ runs/s`, actual: `${fmt(vsRaw * 100)}%`, pass: vsRaw >= 0.4 },
      ],
      notes,
    };
  } finally {
    await engine.close();
    await raw.close();
    await model.close();
  }
}
