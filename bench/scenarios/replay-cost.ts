import { Queue, type Job } from 'bullmq';
import type { FlowContext } from '../../lib/engine';
import { QUEUE_NAME } from '../../lib/engine/bullmq/run-queue';
import { benchClient, closeClient } from '../baselines/connections';
import { RawBullmq } from '../baselines/raw-bullmq';
import type { ScenarioContext, ScenarioResult } from '../report/types';
import { startEngine } from '../support/engine';
import { interleave } from '../support/interleave';
import { commandStats, describePer, diffCommandStats, totals, type CommandStats } from '../support/redis-info';
import { describeRoundTrips, RoundTripTrace, withoutLabel, type RoundTrips } from '../support/round-trips';
import { fmt, median } from '../support/stats';
import { sleep, Signals, wallNow } from '../support/timing';

interface Resume {
  /** Resume job released -> run completed. */
  totalMs: number;
  /** Resume job released -> flow method entered again: queue pickup, claim (whole state in one call), decoding. */
  pickupMs: number;
  /** Flow method entered -> first new step starts: the replay of the K recorded steps in JS. */
  replayMs: number;
  /** First new step starts -> run completed: its write, the finish, the hook. */
  finishMs: number;
  trips: RoundTrips;
  stats: CommandStats;
}

/**
 * 5. Replay cost: a run records K steps, sleeps, and is resumed; the resume
 * replays the K steps from the state loaded by the claim. Every resume is
 * measured alone in a window (nothing else runs): its time, split into
 * phases by marks the flow itself takes, its Redis commands (INFO
 * commandstats delta, Lua-internal ones included) and its round trips by
 * kind (SLOWLOG trace). A raw BullMQ delayed job, measured the same way in
 * every round, shows what the queue alone costs.
 *
 * The resume job is promoted (BullMQ's public Job.promote) 1 ms after it is
 * due, and timed from there. Left alone, an idle Redis only notices that a
 * worker's blocking wait timed out on its next cron tick (every 100 ms at the
 * default hz 10), which adds 0-100 ms of noise that has nothing to do with
 * the replay; scenario 4 measures that wake-up path under load instead.
 */
export async function replayCost({ url, observer, config, log }: ScenarioContext): Promise<ScenarioResult> {
  const { ks, rounds, leadMs } = config.replay;
  const gates = new Signals<number>();
  const resumed = new Set<string>();
  const entered = new Map<string, number>();
  const firstNewStep = new Map<string, number>();
  const completed = new Signals<number>();
  const engine = await startEngine(url, 'bench-replay', [
    {
      id: 'bench/replay',
      handler: async (ctx: FlowContext<{ k: number }>) => {
        if (resumed.has(ctx.runId)) entered.set(ctx.runId, wallNow());
        for (let i = 0; i < ctx.input.k - 1; i++) await ctx.memo(`f${i}`, () => i);
        // The due time is taken once the K steps are recorded, so however long they take the sleep starts after them.
        const gate = await ctx.memo('gate', () => {
          const at = Date.now() + leadMs;
          gates.fire(ctx.runId, at);
          return at;
        });
        await ctx.sleepUntil('nap', gate);
        await ctx.memo('after', () => firstNewStep.set(ctx.runId, wallNow()).size);
        return ctx.input.k;
      },
      hooks: { onSuccess: [(ctx) => completed.fire(ctx.runId, wallNow())] },
    },
  ]);
  const rawStarted = new Signals<number>();
  const rawDone = new Signals<number>();
  const raw = new RawBullmq<{ id: string }>(url, 'bench-replay-raw', ({ id }) => rawStarted.fire(id, wallNow()));
  const trace = new RoundTripTrace(observer);
  const queueClient = benchClient(url);
  const engineQueue = new Queue(QUEUE_NAME, { connection: queueClient, prefix: 'bench-replay' });
  // Opens the measuring window just before the resume is due, releases the job, closes once everything settled.
  const window = async (due: number, queue: Queue, finished: Promise<number>) => {
    let job: Job | undefined;
    while (!job && Date.now() < due - 60) {
      [job] = (await queue.getDelayed(0, 0)) as Array<Job | undefined>;
      if (!job) await sleep(5);
    }
    await sleep(due - 60 - Date.now());
    const before = await commandStats(observer);
    await trace.start();
    await sleep(due + 1 - Date.now());
    const released = wallNow();
    // Should Redis pick the job up by itself first, promote fails harmlessly and the time still starts at release.
    await job?.promote().catch(() => undefined);
    const end = await finished;
    await sleep(100);
    const trips = withoutLabel(await trace.stop(), 'bullmq:promote');
    return { released, end, trips, stats: diffCommandStats(before, await commandStats(observer)) };
  };
  let seq = 0;
  const resumeAfter = async (k: number): Promise<Resume> => {
    const runId = `replay-${k}-${seq++}`;
    await engine.trigger('bench/replay', { k }, { runId });
    const due = await gates.wait(runId, 60_000 + k * 20);
    resumed.add(runId);
    const { released, end, trips, stats } = await window(due, engineQueue, completed.wait(runId, 30_000 + leadMs));
    return {
      totalMs: end - released,
      pickupMs: entered.get(runId)! - released,
      replayMs: firstNewStep.get(runId)! - entered.get(runId)!,
      finishMs: end - firstNewStep.get(runId)!,
      trips,
      stats,
    };
  };
  const rawResume = async (): Promise<Resume> => {
    const id = `raw-${seq++}`;
    const due = Date.now() + leadMs;
    const started = rawStarted.wait(id, 30_000 + leadMs);
    await raw.add({ id }, leadMs);
    const { released, end, trips, stats } = await window(due, raw.queue, rawDone.wait(id, 30_000 + leadMs));
    const startedAt = await started;
    return { totalMs: end - released, pickupMs: startedAt - released, replayMs: 0, finishMs: end - startedAt, trips, stats };
  };
  try {
    await raw.startWorker(10, ({ id }) => rawDone.fire(id, wallNow()));
    const variants: Record<string, () => Promise<Resume>> = {};
    for (const k of ks) variants[`K=${k}`] = () => resumeAfter(k);
    variants['raw BullMQ delayed job'] = rawResume;
    // One unmeasured pass loads every script and warms the JIT.
    for (const measure of Object.values(variants)) await measure();
    const samples = await interleave(rounds, variants, (variant, round, r) =>
      log(`  round ${round + 1} ${variant}: ${fmt(r.totalMs)} ms, ${r.trips.engineState} state + ${r.trips.queue} queue round trips`),
    );
    const figures = [];
    const notes: string[] = [];
    for (const [variant, list] of Object.entries(samples)) {
      const pick = (f: (r: Resume) => number) => list.map(f);
      const isRaw = !variant.startsWith('K=');
      figures.push({ variant, metric: isRaw ? 'released -> job done' : 'resume: job released -> run completed', value: median(pick((r) => r.totalMs)), unit: 'ms', rounds: pick((r) => r.totalMs) });
      figures.push({ variant, metric: isRaw ? '  released -> processor starts' : '  released -> flow re-entered (pickup + claim)', value: median(pick((r) => r.pickupMs)), unit: 'ms', rounds: pick((r) => r.pickupMs) });
      if (!isRaw) {
        figures.push({ variant, metric: '  replay of K steps (JS)', value: median(pick((r) => r.replayMs)), unit: 'ms', rounds: pick((r) => r.replayMs) });
        figures.push({ variant, metric: '  next step + finish', value: median(pick((r) => r.finishMs)), unit: 'ms', rounds: pick((r) => r.finishMs) });
        figures.push({ variant, metric: 'round trips for state (engine)', value: median(pick((r) => r.trips.engineState)), unit: 'calls', rounds: pick((r) => r.trips.engineState) });
      }
      figures.push({ variant, metric: 'round trips by the queue (BullMQ)', value: median(pick((r) => r.trips.queue)), unit: 'calls', rounds: pick((r) => r.trips.queue) });
      figures.push({ variant, metric: 'Redis commands (incl. inside Lua)', value: median(pick((r) => totals(r.stats).calls)), unit: 'cmds', rounds: pick((r) => totals(r.stats).calls) });
      const last = list[list.length - 1];
      notes.push(`${variant}, last round (commands include the bench's own promote call): round trips ${describeRoundTrips(last.trips, 1)}; commands ${describePer(last.stats, 1, 12)}; Redis time ${fmt(totals(last.stats).usec / 1000)} ms`);
    }
    const biggest = `K=${Math.max(...ks)}`;
    const big = samples[biggest];
    const bigTotal = median(big.map((r) => r.totalMs));
    const bigTrips = median(big.map((r) => r.trips.engineState));
    const smallest = samples[`K=${Math.min(...ks)}`];
    return {
      id: 'replay-cost',
      title: `5. Replay cost: resume a run after K recorded steps (${rounds} interleaved rounds, each resume measured alone)`,
      figures,
      ratios: [
        { label: `${biggest} / K=${Math.min(...ks)} resume time`, value: bigTotal / median(smallest.map((r) => r.totalMs)) },
        { label: `${biggest} resume / raw BullMQ delayed job (released -> done)`, value: bigTotal / median(samples['raw BullMQ delayed job'].map((r) => r.totalMs)) },
      ],
      targets: [
        { target: `resume after ${Math.max(...ks)} steps: <= 3 Redis round trips for state`, actual: `${fmt(bigTrips)}`, pass: bigTrips <= 3 },
        { target: `resume after ${Math.max(...ks)} steps: < 20 ms`, actual: `${fmt(bigTotal)} ms (job released -> run completed)`, pass: bigTotal < 20 },
      ],
      notes,
    };
  } finally {
    await engine.close();
    await raw.close();
    await engineQueue.close();
    await closeClient(queueClient);
  }
}
