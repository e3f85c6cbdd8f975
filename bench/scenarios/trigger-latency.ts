import type { FlowContext } from '../../lib/engine';
import { GoTickModel } from '../baselines/gotick-model';
import { RawBullmq } from '../baselines/raw-bullmq';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { fmt, max, percentile } from '../support/stats';
import { monoNow, Signals } from '../support/timing';

/**
 * 3. Trigger latency: from calling trigger to the first step's function
 * starting, on an idle worker. One sample of each variant per round, and
 * each run is let finish before the next trigger, so every sample sees the
 * same idle system (a worker blocked waiting for work, as in production).
 */
export async function triggerLatency({ url, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { samples } = config.triggerLatency;
  const started = new Signals<number>();
  const finished = new Signals<void>();
  const engine = await startEngine(
    url,
    'bench-lat',
    [
      {
        id: 'bench/first-step',
        handler: async (ctx: FlowContext) => ctx.memo('first', () => started.fire(ctx.runId, monoNow())),
        hooks: { onSuccess: [(ctx) => finished.fire(ctx.runId)] },
      },
    ],
    { worker: { concurrency: 10 } },
  );
  const raw = new RawBullmq<{ id: string }>(url, 'bench-lat-raw', ({ id }) => started.fire(id, monoNow()));
  const model = new GoTickModel(url, 'bench-lat-model', 1, {
    onStepStart: (runId) => started.fire(runId, monoNow()),
    onRunDone: (runId) => finished.fire(runId),
  });
  let seq = 0;
  const timed = async (id: string, trigger: () => Promise<unknown>) => {
    const began = monoNow();
    await trigger();
    const latency = (await started.wait(id, 30_000)) - began;
    await finished.wait(id, 30_000);
    return latency;
  };
  try {
    await raw.startWorker(10, ({ id }) => finished.fire(id));
    await model.startWorker(10);
    const all = await interleave(
      samples + 5,
      {
        gotick: () => timed(`lat-${++seq}`, () => engine.trigger('bench/first-step', undefined, { runId: `lat-${seq}` })),
        'raw BullMQ': () => timed(`raw-${++seq}`, () => raw.add({ id: `raw-${seq}` })),
        'GoTick model': () => timed(`model-${++seq}`, () => model.trigger(`model-${seq}`)),
      },
      (variant, round, ms) => {
        if ((round + 1) % Math.max(1, Math.floor(samples / 3)) === 0) log(`  sample ${round + 1} ${variant}: ${fmt(ms)} ms`);
      },
    );
    // The first rounds load scripts and warm the JIT: they are not what a trigger costs.
    const kept = (list: number[]) => list.slice(5);
    const figures = (Object.keys(all) as Array<keyof typeof all>).flatMap((variant) => [
      { variant, metric: 'trigger -> first step, p50', value: percentile(kept(all[variant]), 50), unit: 'ms' },
      { variant, metric: 'trigger -> first step, p99', value: percentile(kept(all[variant]), 99), unit: 'ms' },
      { variant, metric: 'trigger -> first step, max', value: max(kept(all[variant])), unit: 'ms' },
    ]);
    const p50 = percentile(kept(all.gotick), 50);
    const rawP50 = percentile(kept(all['raw BullMQ']), 50);
    return {
      id: 'trigger-latency',
      title: `3. Trigger latency: trigger -> first step starts, idle worker (${samples} samples per variant, interleaved)`,
      figures,
      ratios: [
        { label: 'GoTick p50 / raw BullMQ p50', value: p50 / rawP50 },
        { label: 'GoTick p99 / raw BullMQ p99', value: percentile(kept(all.gotick), 99) / percentile(kept(all['raw BullMQ']), 99) },
      ],
      targets: [{ target: 'trigger latency p50 <= 5 ms', actual: `${fmt(p50)} ms`, pass: p50 <= 5 }],
      notes: [],
    };
  } finally {
    await engine.close();
    await raw.close();
    await model.close();
  }
}
