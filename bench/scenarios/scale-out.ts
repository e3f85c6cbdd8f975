import { stepsFlow } from '../flows/steps-flow';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { fmt, median } from '../support/stats';
import { monoNow, pool, waitFor } from '../support/timing';
import { WorkerProcess } from '../support/worker-process';

interface Sample {
  runsPerSec: number;
  /** CPU of the workers and the producer together, per run. */
  cpuMsPerRun: number;
}

/**
 * 7. Scale-out: the throughput scenario with 1, 2 and 4 worker processes. The
 * bench process only triggers (a worker: false engine); the workers are
 * separate `node -r @swc-node/register bench/scale-worker.ts` processes,
 * spawned once and given a fresh prefix per measurement.
 */
export async function scaleOut({ url, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { workers: counts, runs, rounds } = config.scaleOut;
  const { steps, concurrency } = config.throughput;
  const spawned = await Promise.all(Array.from({ length: Math.max(...counts) }, () => WorkerProcess.spawn()));
  let measurement = 0;
  const measure = async (n: number, batch: number): Promise<Sample> => {
    const prefix = `bench-scale-${measurement++}`;
    const active = spawned.slice(0, n);
    await Promise.all(active.map((worker) => worker.start({ url, prefix, concurrency, steps })));
    const producer = await startEngine(url, prefix, [stepsFlow('bench/ten', steps)], { worker: false });
    try {
      const cpu = process.cpuUsage();
      const began = monoNow();
      await pool(config.producerConcurrency, batch, () => producer.trigger('bench/ten'));
      const done = () => active.reduce((sum, worker) => sum + worker.completed, 0);
      await waitFor(`${batch} runs on ${n} worker process(es)`, () => done() >= batch, 60_000 + batch * steps * 10, 2);
      const elapsed = monoNow() - began;
      const parentCpu = process.cpuUsage(cpu);
      const workerCpu = (await Promise.all(active.map((worker) => worker.stop()))).reduce((a, b) => a + b, 0);
      return { runsPerSec: batch / (elapsed / 1000), cpuMsPerRun: (workerCpu + (parentCpu.user + parentCpu.system) / 1000) / batch };
    } finally {
      await producer.close();
    }
  };
  try {
    // Every process runs a small batch first, so no measured round pays for JIT warm-up.
    await measure(spawned.length, Math.min(200, runs));
    const variants: Record<string, () => Promise<Sample>> = {};
    for (const n of counts) variants[`${n} worker process${n > 1 ? 'es' : ''}`] = () => measure(n, runs);
    const samples = await interleave(rounds, variants, (variant, round, s) => log(`  round ${round + 1} ${variant}: ${fmt(s.runsPerSec)} runs/s`));
    const names = Object.keys(samples);
    const rate = (name: string) => median(samples[name].map((s) => s.runsPerSec));
    const one = rate(names[0]);
    return {
      id: 'scale-out',
      title: `7. Scale-out: ${runs} runs of a ${steps}-step flow on 1..${Math.max(...counts)} worker processes (concurrency ${concurrency} each; ${rounds} interleaved rounds)`,
      figures: names.flatMap((name) => [
        { variant: name, metric: 'runs/s', value: rate(name), unit: 'runs/s', rounds: samples[name].map((s) => s.runsPerSec) },
        { variant: name, metric: 'CPU per run (workers + producer)', value: median(samples[name].map((s) => s.cpuMsPerRun)), unit: 'ms' },
      ]),
      ratios: names.slice(1).map((name) => ({ label: `${name} / ${names[0]} runs/s`, value: rate(name) / one })),
      targets: [],
      notes: [
        'Redis, the producer and every worker process share this machine\'s CPUs; with 2 cores, more processes than cores compete for them, so the ratios show contention as much as scaling.',
      ],
    };
  } finally {
    await Promise.all(spawned.map((worker) => worker.kill()));
  }
}
