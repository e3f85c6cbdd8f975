import type { FlowContext, FlowHookContext } from '../../lib/engine';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { onCleanup } from '../support/cleanup';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { startBenchRedis } from '../support/redis-server';
import { fmt, percentile } from '../support/stats';
import { monoNow, Signals } from '../support/timing';

/**
 * 8. What durability against an OS crash costs: the trigger-latency
 * measurement run against the bench's Redis (AOF, fsync every second) and
 * against a second redis-server with `appendfsync always` (an fsync before
 * every reply), interleaved so both see the same machine load. Two figures per
 * server: the trigger call itself (the acknowledgement a caller waits for) and
 * trigger -> first step starting.
 */
export async function fsyncAlways({ url, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { samples } = config.triggerLatency;
  const always = await startBenchRedis('always');
  const forget = onCleanup(() => always.stop());
  const started = new Signals<number>();
  const finished = new Signals<void>();
  const flow = {
    id: 'bench/fsync-first-step',
    handler: async (ctx: FlowContext) => ctx.memo('first', () => started.fire(ctx.runId, monoNow())),
    hooks: { onSuccess: [(ctx: FlowHookContext) => finished.fire(ctx.runId)] },
  };
  const engines = {
    everysec: await startEngine(url, 'bench-fsync-everysec', [flow], { worker: { concurrency: 10 } }),
    always: await startEngine(always.url, 'bench-fsync-always', [flow], { worker: { concurrency: 10 } }),
  };
  let seq = 0;
  const timed = async (variant: keyof typeof engines) => {
    const runId = `fsync-${variant}-${++seq}`;
    const began = monoNow();
    await engines[variant].trigger(flow.id, undefined, { runId });
    const acked = monoNow() - began;
    const firstStep = (await started.wait(runId, 30_000)) - began;
    await finished.wait(runId, 30_000);
    return { acked, firstStep };
  };
  try {
    const all = await interleave(
      samples + 5,
      { 'appendfsync everysec': () => timed('everysec'), 'appendfsync always': () => timed('always') },
      (variant, round, sample) => {
        if ((round + 1) % Math.max(1, Math.floor(samples / 3)) === 0) log(`  sample ${round + 1} ${variant}: ack ${fmt(sample.acked)} ms`);
      },
    );
    // The first rounds load scripts and warm the JIT, as in trigger-latency.
    const kept = (variant: keyof typeof all, field: 'acked' | 'firstStep') => all[variant].slice(5).map((sample) => sample[field]);
    const variants = Object.keys(all) as Array<keyof typeof all>;
    const figures = variants.flatMap((variant) => [
      { variant, metric: 'trigger acknowledged, p50', value: percentile(kept(variant, 'acked'), 50), unit: 'ms' },
      { variant, metric: 'trigger acknowledged, p99', value: percentile(kept(variant, 'acked'), 99), unit: 'ms' },
      { variant, metric: 'trigger -> first step, p50', value: percentile(kept(variant, 'firstStep'), 50), unit: 'ms' },
      { variant, metric: 'trigger -> first step, p99', value: percentile(kept(variant, 'firstStep'), 99), unit: 'ms' },
    ]);
    const ratio = (field: 'acked' | 'firstStep', p: number) =>
      percentile(kept('appendfsync always', field), p) / percentile(kept('appendfsync everysec', field), p);
    return {
      id: 'fsync-always',
      title: `8. Durability cost: the same trigger on appendfsync everysec vs always (${samples} samples per variant, interleaved)`,
      figures,
      ratios: [
        { label: 'trigger acknowledged p50, always / everysec', value: ratio('acked', 50) },
        { label: 'trigger acknowledged p99, always / everysec', value: ratio('acked', 99) },
        { label: 'trigger -> first step p50, always / everysec', value: ratio('firstStep', 50) },
      ],
      targets: [],
      notes: ['Measured on this machine\'s disk: the cost of an fsync varies by orders of magnitude between disks and file systems.'],
    };
  } finally {
    await engines.everysec.close();
    await engines.always.close();
    forget();
    await always.stop();
  }
}
