import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { benchConfig } from './config';
import { renderScenario, renderSummary } from './report/console-table';
import { environment } from './report/environment';
import { writeResults } from './report/results-md';
import type { ScenarioResult } from './report/types';
import { SCENARIOS } from './scenarios';
import { cleanupAll, cleanupOnSignals, onCleanup } from './support/cleanup';
import { RedisMissingError, startBenchRedis } from './support/redis-server';
import { monoNow } from './support/timing';

/**
 * `npm run bench` (full, judged against the targets, writes bench/RESULTS.md)
 * `npm run bench -- --smoke` or BENCH_SMOKE=1 (tiny, for CI, writes bench/.tmp/)
 * `npm run bench -- --only=throughput,memory` (a subset, writes bench/.tmp/)
 */
function parseArgs(argv: string[]) {
  const smoke = argv.includes('--smoke') || /^(1|true|yes)$/i.test(process.env.BENCH_SMOKE ?? '');
  const only = argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',').filter(Boolean);
  const known = new Set(SCENARIOS.map(([id]) => id));
  for (const id of only ?? []) {
    if (!known.has(id)) throw new Error(`Unknown scenario "${id}" in --only; use any of: ${[...known].join(', ')}`);
  }
  return { smoke, only };
}

async function main(): Promise<void> {
  const { smoke, only } = parseArgs(process.argv.slice(2));
  const config = benchConfig(smoke);
  cleanupOnSignals();
  const began = monoNow();
  const redis = await startBenchRedis();
  onCleanup(() => redis.stop());
  const observer = new Redis(redis.url, { maxRetriesPerRequest: null });
  onCleanup(() => void observer.disconnect());
  const env = environment(redis.version);
  console.log(
    `nestjs-gotick bench${smoke ? ' (smoke)' : ''}: Node ${env.node}, Redis ${env.redis} on port ${redis.port} ` +
      `(AOF everysec), ${env.cpuCount} CPUs (${env.cpuModel})`,
  );
  const results: ScenarioResult[] = [];
  for (const [id, run] of SCENARIOS) {
    if (only && !only.includes(id)) continue;
    // Every scenario starts on an empty Redis, so one's leftovers never slow or bloat the next.
    await observer.flushall();
    console.log(`\n-- ${id}`);
    const started = monoNow();
    const result = await run({ url: redis.url, observer, config, log: (line) => console.log(line) });
    result.seconds = (monoNow() - started) / 1000;
    results.push(result);
    console.log(renderScenario(result));
  }
  console.log(renderSummary(results, !smoke));
  const totalSeconds = (monoNow() - began) / 1000;
  const partial = smoke || only !== undefined;
  const dir = partial ? join(__dirname, '.tmp') : __dirname;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, partial ? `RESULTS-${smoke ? 'smoke' : 'partial'}.md` : 'RESULTS.md');
  writeResults(file, env, results, smoke, totalSeconds);
  console.log(`\nWrote ${file} (${(totalSeconds).toFixed(1)} s in all).${partial ? ' Only a full run writes bench/RESULTS.md.' : ''}`);
}

main()
  .catch((err: Error) => {
    console.error(err instanceof RedisMissingError ? err.message : `bench failed: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  })
  // Exits explicitly once everything is stopped: a stray library timer must not keep CI waiting.
  .finally(() => cleanupAll().then(() => process.exit()));
