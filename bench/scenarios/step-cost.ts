import type { FlowContext } from '../../lib/engine';
import { benchClient, closeClient } from '../baselines/connections';
import { GoTickModel } from '../baselines/gotick-model';
import { hsetSteps } from '../baselines/hset-floor';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { fmt, median, pairedRatio } from '../support/stats';
import { monoNow, Signals } from '../support/timing';
import { registerTracing } from '../support/otel';
import { Registry } from 'prom-client';

/**
 * 1. Step cost: one run of N sequential ctx.memo steps. GoTick is timed
 * inside the flow, from before the first step to after the last one is
 * stored, so trigger and pickup are not spread over the steps; the floor is
 * N awaited HSETs; the GoTick model is timed trigger to last step, since in
 * that model the queue trip is part of every step.
 */
export async function stepCost({ url, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { steps, rounds } = config.stepCost;
  const inFlow = new Signals<number>();
  const flow = {
    id: 'bench/steps',
    handler: async (ctx: FlowContext) => {
      const started = monoNow();
      for (let i = 0; i < steps; i++) await ctx.memo(`s${i}`, () => i);
      inFlow.fire(ctx.runId, monoNow() - started);
    },
  };
  const engine = await startEngine(url, 'bench-step', [flow]);
  // The same flow with tracing (an SDK registered, spans batched and dropped) and metrics on: what observing costs per step.
  const unregisterTracing = registerTracing();
  const observed = await startEngine(url, 'bench-step-obs', [flow], { tracing: true, metrics: { registry: new Registry() } });
  const modelDone = new Signals<number>();
  const model = new GoTickModel(url, 'bench-step-model', steps, { onRunDone: (runId) => modelDone.fire(runId, monoNow()) });
  await model.startWorker(1);
  const floorClient = benchClient(url);
  try {
    let run = 0;
    const samples = await interleave(
      rounds,
      {
        gotick: async () => {
          const { runId } = await engine.trigger('bench/steps', undefined, { runId: `step-${run++}` });
          return (await inFlow.wait(runId, 60_000)) / steps;
        },
        observed: async () => {
          const { runId } = await observed.trigger('bench/steps', undefined, { runId: `step-obs-${run++}` });
          return (await inFlow.wait(runId, 60_000)) / steps;
        },
        floor: async () => {
          const started = monoNow();
          await hsetSteps(floorClient, `bench-step-floor:{r${run++}}`, steps);
          return (monoNow() - started) / steps;
        },
        model: async () => {
          const runId = `model-${run++}`;
          const started = monoNow();
          await model.trigger(runId);
          return ((await modelDone.wait(runId, 120_000)) - started) / steps;
        },
      },
      (variant, round, msPerStep) => log(`  round ${round + 1} ${variant}: ${fmt(msPerStep)} ms/step`),
    );
    const gotick = median(samples.gotick);
    const floor = median(samples.floor);
    const modelMs = median(samples.model);
    // Judged per round: adjacent samples share the machine's momentary speed (see pairedRatio).
    const ratio = pairedRatio(samples.gotick, samples.floor);
    return {
      id: 'step-cost',
      title: `1. Step cost: one run of ${steps} sequential ctx.memo steps (${rounds} interleaved rounds)`,
      figures: [
        { variant: 'GoTick', metric: 'time per step', value: gotick, unit: 'ms', rounds: samples.gotick },
        { variant: 'floor: awaited HSET', metric: 'time per step', value: floor, unit: 'ms', rounds: samples.floor },
        { variant: 'GoTick model: job per step', metric: 'time per step', value: modelMs, unit: 'ms', rounds: samples.model },
        { variant: 'GoTick, tracing + metrics on', metric: 'time per step', value: median(samples.observed), unit: 'ms', rounds: samples.observed },
      ],
      ratios: [
        { label: 'GoTick / floor, median of per-round ratios (judged)', value: ratio },
        { label: 'GoTick / floor, ratio of medians', value: gotick / floor },
        { label: 'GoTick model / GoTick, median of per-round ratios (GoTick speed-up)', value: pairedRatio(samples.model, samples.gotick) },
        { label: 'GoTick with tracing + metrics / GoTick, median of per-round ratios (cost of observing)', value: pairedRatio(samples.observed, samples.gotick) },
      ],
      targets: [{ target: 'step cost <= 2x HSET floor', actual: `${fmt(ratio)}x`, pass: ratio <= 2 }],
      notes: [],
    };
  } finally {
    await engine.close();
    await observed.close();
    await unregisterTracing();
    await model.close();
    await closeClient(floorClient);
  }
}
