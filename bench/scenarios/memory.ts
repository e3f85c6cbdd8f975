import type { Redis } from 'ioredis';
import type { FlowContext } from '../../lib/engine';
import { QUEUE_NAME } from '../../lib/engine/bullmq/run-queue';
import { benchClient, closeClient } from '../baselines/connections';
import { RawBullmq } from '../baselines/raw-bullmq';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { keyCensus, type KeyGroup } from '../support/key-census';
import { QueueCounts } from '../support/queue-counts';
import { usedMemory } from '../support/redis-info';
import { fmt, fmtBytes } from '../support/stats';
import { pool, sleep, waitFor } from '../support/timing';

/** "run hash 300 B, job hash 500 B, ..." per run, largest first; keys shared by all runs are spread over them. */
function describeCensus(groups: KeyGroup[], runs: number): string {
  const sum = groups.reduce((total, group) => total + group.bytes, 0);
  const parts = groups
    .filter((group) => group.bytes / runs >= 1)
    .map((group) => `${group.shape} ${fmtBytes(group.bytes / runs)}${group.keys > 1 ? ` (${group.keys.toLocaleString('en-US')} keys)` : ''}`);
  return `${parts.join(', ')}; keys sum to ${fmtBytes(sum / runs)} (the rest of the used_memory delta is Redis' own keyspace bookkeeping)`;
}

async function describeKey(observer: Redis, key: string): Promise<string> {
  const encoding = await observer.object('ENCODING', key);
  const type = await observer.type(key);
  const body = type === 'hash' ? Object.entries(await observer.hgetall(key)).map(([k, v]) => `${k}=${v}`).join(' ') : type;
  return `Example ${key} (${encoding}, ${await observer.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')} B): ${body}`;
}

/** used_memory after a settle, so lazily freed buffers from the last commands are not counted. */
async function settledMemory(observer: Redis): Promise<number> {
  await sleep(300);
  return usedMemory(observer);
}

/**
 * 6. Redis memory per sleeping run: N runs parked in a 1 h sleep (no queue
 * job: a run hash, its flow index entry and its timer-pump entry), from the
 * INFO used_memory delta, broken down by kind of key with MEMORY USAGE. Baseline:
 * N raw BullMQ delayed jobs (1 h, empty data) measured the same way. Each is
 * measured on an emptied Redis.
 */
export async function memoryPerSleepingRun({ url, observer, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { runs } = config.memory;
  const notes: string[] = [];

  await observer.flushall();
  const engine = await startEngine(
    url,
    'bench-mem',
    [{ id: 'bench/park', handler: async (ctx: FlowContext) => ctx.sleep('nap', '1h') }],
    { worker: { concurrency: 50 } },
  );
  const countsClient = benchClient(url);
  const counts = new QueueCounts(countsClient, QUEUE_NAME, 'bench-mem');
  let gotickPerRun: number;
  try {
    // One parked run first, so script cache and queue metadata are in the baseline, not billed to the N runs.
    await engine.trigger('bench/park');
    await waitFor('the first run parked', () => counts.parked(1), 30_000, 20);
    const before = await settledMemory(observer);
    const began = Date.now();
    await pool(config.producerConcurrency, runs, () => engine.trigger('bench/park'));
    await waitFor(`${runs} runs parked`, () => counts.parked(runs + 1), 120_000 + runs * 10, 50);
    const after = await settledMemory(observer);
    gotickPerRun = (after - before) / runs;
    log(`  GoTick: ${runs} runs parked in ${fmt((Date.now() - began) / 1000)} s, ${fmtBytes(gotickPerRun)} per run`);
    const census = await keyCensus(observer, 'bench-mem', QUEUE_NAME);
    notes.push(`GoTick, Redis memory per sleeping run by kind of key (MEMORY USAGE, sampled): ${describeCensus(census, runs)}.`);
    // What one run's keys hold, and how Redis encodes them (a hash outgrowing listpack limits costs several times more).
    for (const group of census.filter((g) => g.keys > 1)) notes.push(await describeKey(observer, group.example));
  } finally {
    await engine.close();
    await counts.close();
    await closeClient(countsClient);
  }

  await observer.flushall();
  const raw = new RawBullmq(url, 'bench-memraw', () => undefined);
  let rawPerJob: number;
  try {
    await raw.add({}, 3_600_000);
    const before = await settledMemory(observer);
    await pool(config.producerConcurrency, runs, () => raw.add({}, 3_600_000));
    const after = await settledMemory(observer);
    rawPerJob = (after - before) / runs;
    log(`  raw BullMQ: ${fmtBytes(rawPerJob)} per delayed job`);
    notes.push(`raw BullMQ, Redis memory per delayed job by kind of key: ${describeCensus(await keyCensus(observer, 'bench-memraw', 'raw'), runs)}.`);
  } finally {
    await raw.close();
  }
  await observer.flushall();

  return {
    id: 'memory',
    title: `6. Redis memory per sleeping run: ${runs.toLocaleString('en-US')} runs parked in a 1 h sleep (INFO used_memory delta)`,
    figures: [
      { variant: 'GoTick', metric: 'memory per sleeping run', value: gotickPerRun, unit: 'bytes' },
      { variant: 'raw BullMQ delayed job (1 h, empty)', metric: 'memory per job', value: rawPerJob, unit: 'bytes' },
    ],
    ratios: [{ label: 'GoTick / raw BullMQ delayed job', value: gotickPerRun / rawPerJob }],
    targets: [
      { target: '<= 0.5 KB Redis memory per sleeping run', actual: fmtBytes(gotickPerRun), pass: gotickPerRun <= 512 },
      { target: 'below a bare BullMQ delayed job', actual: `${fmt(gotickPerRun / rawPerJob)}x`, pass: gotickPerRun < rawPerJob },
    ],
    notes,
  };
}
