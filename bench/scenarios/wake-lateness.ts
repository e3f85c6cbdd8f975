import type { FlowContext } from '../../lib/engine';
import { QUEUE_NAME } from '../../lib/engine/bullmq/run-queue';
import { benchClient, closeClient } from '../baselines/connections';
import { RawBullmq } from '../baselines/raw-bullmq';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { QueueCounts } from '../support/queue-counts';
import { fmt, max, percentile } from '../support/stats';
import { CountDown, pool, sleep, waitFor, wallNow } from '../support/timing';

interface Round {
  lateness: number[];
  /** How long before the first wake-up every run was parked; negative would mean setup overlapped the measurement. */
  slackMs: number;
}

/**
 * 4. Sleep wake-up lateness: N runs sleep until due times spaced so that they
 * wake at the given rate; lateness = when the step after the sleep starts
 * minus the due time. All runs are parked before the first one is due, so
 * only wake-ups load the system. Baseline: raw BullMQ delayed jobs, due at the
 * same rate, lateness = when the processor starts minus the due time.
 */
export async function wakeLateness({ url, observer, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { wakeups, perSecond, rounds } = config.wakeLateness;
  const spacingMs = 1000 / perSecond;
  // Parking a run costs a trigger plus one execution: about 0.25 ms on 2 cores, so 1 ms each leaves ample margin (checked below).
  // 2 s more than that: a park under 1 s away keeps a delayed job (SHORT_PARK_MS), which is not what this measures.
  const setupMs = 3000 + wakeups;
  let done = new CountDown(0);
  let lateness: number[] = [];
  const woke = (due: number) => {
    lateness.push(wallNow() - due);
    done.arrive();
  };
  const engine = await startEngine(
    url,
    'bench-wake',
    [
      {
        id: 'bench/wake',
        handler: async (ctx: FlowContext<{ due: number }>) => {
          await ctx.sleepUntil('nap', ctx.input.due);
          await ctx.task('woke', () => woke(ctx.input.due));
        },
      },
    ],
    { worker: { concurrency: 50 } },
  );
  const raw = new RawBullmq<{ due: number }>(url, 'bench-wake-raw', ({ due }) => woke(due));
  const countsClient = benchClient(url);
  const counts = new QueueCounts(countsClient, QUEUE_NAME, 'bench-wake');
  const round = async (schedule: (due: number) => Promise<unknown>, parked: () => Promise<boolean>): Promise<Round> => {
    lateness = [];
    done = new CountDown(wakeups);
    const first = Date.now() + setupMs;
    await pool(config.producerConcurrency, wakeups, (i) => schedule(Math.round(first + i * spacingMs)));
    await waitFor('every run parked', parked, setupMs + 30_000, 20);
    const slackMs = first - Date.now();
    await done.wait(`${wakeups} wake-ups`, setupMs + (wakeups / perSecond) * 1000 + 60_000);
    await sleep(200);
    return { lateness, slackMs };
  };
  const defaultHz = ((await observer.config('GET', 'hz')) as string[])[1];
  try {
    await raw.startWorker(50);
    const gotickRound = () => round((due) => engine.trigger('bench/wake', { due }), () => counts.parked(wakeups));
    const rawRound = () => round((due) => raw.add({ due }, due - Date.now()), async () => true);
    // Diagnostic variants: the same rounds with Redis' timer at 100 Hz instead of the default 10 Hz (see the note below).
    const atHz100 = async (measure: () => Promise<Round>) => {
      await observer.config('SET', 'hz', '100');
      try {
        return await measure();
      } finally {
        await observer.config('SET', 'hz', defaultHz);
      }
    };
    const samples = await interleave(
      rounds,
      {
        gotick: gotickRound,
        'raw BullMQ delayed job': rawRound,
        'gotick, Redis hz 100 (diagnostic)': () => atHz100(gotickRound),
        'raw BullMQ, Redis hz 100 (diagnostic)': () => atHz100(rawRound),
      },
      (variant, r, s) => log(`  round ${r + 1} ${variant}: p50 ${fmt(percentile(s.lateness, 50))} ms, p99 ${fmt(percentile(s.lateness, 99))} ms, parked ${fmt(s.slackMs)} ms before the first wake-up`),
    );
    const pooled = (variant: keyof typeof samples) => samples[variant].flatMap((s) => s.lateness);
    const p99s = (variant: keyof typeof samples) => samples[variant].map((s) => percentile(s.lateness, 99));
    const figures = (Object.keys(samples) as Array<keyof typeof samples>).flatMap((variant) => [
      { variant, metric: 'lateness p50', value: percentile(pooled(variant), 50), unit: 'ms', rounds: samples[variant].map((s) => percentile(s.lateness, 50)) },
      { variant, metric: 'lateness p99', value: percentile(pooled(variant), 99), unit: 'ms', rounds: p99s(variant) },
      { variant, metric: 'lateness max', value: max(pooled(variant)), unit: 'ms' },
    ]);
    const gotickP99 = percentile(pooled('gotick'), 99);
    const rawP99 = percentile(pooled('raw BullMQ delayed job'), 99);
    const overlapped = Object.values(samples).flat().filter((s) => s.slackMs < 0).length;
    return {
      id: 'wake-lateness',
      title: `4. Sleep wake-up lateness: ${wakeups} wake-ups at ${perSecond}/s per round (${rounds} interleaved rounds; percentiles over all rounds)`,
      figures,
      ratios: [
        { label: 'GoTick p50 / raw BullMQ p50', value: percentile(pooled('gotick'), 50) / percentile(pooled('raw BullMQ delayed job'), 50) },
        { label: 'GoTick p99 / raw BullMQ p99', value: gotickP99 / rawP99 },
      ],
      targets: [
        { target: `wake-up lateness p99 <= 30 ms (Redis hz ${defaultHz})`, actual: `${fmt(gotickP99)} ms`, pass: gotickP99 <= 30 },
        { target: 'wake-up lateness p99 <= raw BullMQ p99 + 10 ms', actual: `${fmt(gotickP99)} ms vs ${fmt(rawP99)} + 10 ms (${gotickP99 >= rawP99 ? '+' : ''}${fmt(gotickP99 - rawP99)} ms)`, pass: gotickP99 <= rawP99 + 10 },
      ],
      notes: [
        `Every run was parked before its round's first wake-up was due${overlapped ? `, except in ${overlapped} round(s) (setup overlapped the wake-ups)` : ''}; setup margin ${fmt(setupMs)} ms.`,
        `Raw BullMQ wakes through delayed jobs: a worker blocks on BZPOPMIN until the next job is due, and Redis ` +
          `only notices such a timeout when its event loop wakes, which on a quiet server is its cron tick (hz ${defaultHz} = every ` +
          `${fmt(1000 / Number(defaultHz))} ms). Hence its lateness spread evenly up to that tick; the hz 100 rounds show it shrink with the tick. ` +
          `A sleeping GoTick run holds no delayed job: the timer pump of the node that parked it sets a Node timer for the earliest ` +
          `wake-up, claims the due ones in one script and adds them as immediate jobs, which wake a blocked worker at once, whatever the hz. ` +
          `Targets are judged at the default hz.`,
      ],
    };
  } finally {
    await engine.close();
    await raw.close();
    await counts.close();
    await closeClient(countsClient);
  }
}
