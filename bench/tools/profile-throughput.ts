import { Redis } from 'ioredis';
import { stepsFlow } from '../flows/steps-flow';
import { cleanupAll, cleanupOnSignals, onCleanup } from '../support/cleanup';
import { startEngine } from '../support/engine';
import { commandStats, describePer, diffCommandStats, redisCpuSeconds, totals } from '../support/redis-info';
import { startBenchRedis } from '../support/redis-server';
import { fmt } from '../support/stats';
import { CountDown, monoNow, pool } from '../support/timing';

/**
 * GoTick's part of the throughput scenario alone, for profiling: no baselines
 * in the process, so a CPU profile shows only the engine's work.
 *   node --cpu-prof --cpu-prof-dir=bench/.tmp -r @swc-node/register bench/tools/profile-throughput.ts [batches]
 *   node -r @swc-node/register bench/tools/cpuprofile-summary.ts bench/.tmp/<file>.cpuprofile
 * PROFILE_AUTOPIPELINE=1 gives the engine ioredis connection options with
 * enableAutoPipelining, to measure what batching its commands per tick would gain.
 */
async function main(): Promise<void> {
  const batches = Number(process.argv[2] ?? 5);
  const runs = 2000;
  const steps = 10;
  cleanupOnSignals();
  const redis = await startBenchRedis();
  onCleanup(() => redis.stop());
  const observer = new Redis(redis.url);
  onCleanup(() => void observer.disconnect());
  let done = new CountDown(0);
  const connection = process.env.PROFILE_AUTOPIPELINE === '1' ? { host: '127.0.0.1', port: redis.port, enableAutoPipelining: true } : redis.url;
  const engine = await startEngine(connection, 'profile', [stepsFlow('bench/ten', steps, () => done.arrive())], { worker: { concurrency: 50 } });
  let seq = 0;
  for (let batch = 0; batch <= batches; batch++) {
    done = new CountDown(runs);
    const before = await commandStats(observer);
    const redisCpu = await redisCpuSeconds(observer);
    const cpu = process.cpuUsage();
    const began = monoNow();
    await pool(50, runs, () => engine.trigger('bench/ten', undefined, { runId: `p-${seq++}` }));
    await done.wait('profile batch', 120_000);
    const seconds = (monoNow() - began) / 1000;
    const used = process.cpuUsage(cpu);
    const delta = diffCommandStats(before, await commandStats(observer));
    console.log(
      `${batch === 0 ? 'warm-up' : `batch ${batch}`}: ${fmt(runs / seconds)} runs/s; per run: Node CPU ${fmt((used.user + used.system) / 1000 / runs)} ms, ` +
        `redis-server CPU ${fmt((((await redisCpuSeconds(observer)) - redisCpu) * 1000) / runs)} ms, ` +
        `${fmt(totals(delta).calls / runs)} commands (${describePer(delta, runs, 12)})`,
    );
  }
  await engine.close();
}

main()
  .catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll().then(() => process.exit()));
