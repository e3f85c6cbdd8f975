/**
 * `npm run chaos` — a bounded chaos soak: worker processes on one Redis take
 * a stream of runs while one of them, picked at random, is SIGKILLed every
 * couple of seconds and started again. At the end every run must have
 * completed, and every side effect must have happened at least once, and more
 * than once only where a kill cut a step short (see verify.ts).
 *
 *   npm run chaos                  2,000 runs, about two minutes
 *   npm run chaos -- --short       200 runs, about fifteen seconds (what CI runs)
 *   npm run chaos -- --runs=500 --duration=60 --kill-every=1000 --workers=3 --seed=42
 *
 * The same settings can come from CHAOS_RUNS, CHAOS_DURATION (seconds),
 * CHAOS_KILL_EVERY (ms), CHAOS_WORKERS, CHAOS_SEED, CHAOS_SHORT=1.
 * Exit code 0 when every check held, 1 on any violation or error.
 */
import { GoTickEngine, type RunView } from '../../lib/engine';
import { RunKeys } from '../../lib/engine/redis/keys';
import {
  WORKER_FLOWS,
  intervalsKey,
  killAllWorkerProcesses,
  startWorkerProcess,
  startsKey,
  ticksKey,
  type StepInterval,
  type StepStart,
  type WorkerProcess,
} from '../support/child-worker';
import { startRedis, type TestRedis } from '../support/redis-server';
import { EXECUTIONS_WITHOUT_KILLS, verify, type ChaosInput, type RunEvidence } from './verify';

interface Settings {
  runs: number;
  /** The chaos window: runs are triggered over its first 90 %; kills stop at its end (or once every run is done). */
  durationMs: number;
  killEveryMs: number;
  workers: number;
  concurrency: number;
  lease: string;
  /** After the kills stop, how long the survivors get to finish what is left; whatever is still unfinished then is lost. */
  drainMs: number;
  seed: number;
}

function settingsFrom(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const flags = new Map(
    argv.filter((arg) => arg.startsWith('--')).map((arg) => {
      const [name, value] = arg.slice(2).split('=');
      return [name, value ?? 'true'] as const;
    }),
  );
  const pick = (flag: string, variable: string): string | undefined => flags.get(flag) ?? env[variable];
  const short = pick('short', 'CHAOS_SHORT') !== undefined && pick('short', 'CHAOS_SHORT') !== '0';
  const number = (flag: string, variable: string, fallback: number): number => {
    const raw = pick(flag, variable);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${flag} (or ${variable}) must be a positive number; got ${JSON.stringify(raw)}`);
    return value;
  };
  return {
    runs: Math.floor(number('runs', 'CHAOS_RUNS', short ? 200 : 2000)),
    durationMs: number('duration', 'CHAOS_DURATION', short ? 14 : 120) * 1000,
    killEveryMs: number('kill-every', 'CHAOS_KILL_EVERY', 2000),
    workers: Math.floor(number('workers', 'CHAOS_WORKERS', 3)),
    concurrency: 10,
    lease: '1500ms',
    // Past the reconciler's grace (5 s) and one more pass, so a stranded run still counts as found, not lost.
    drainMs: short ? 12_000 : 30_000,
    seed: Math.floor(number('seed', 'CHAOS_SEED', 1 + Math.floor(Math.random() * 2 ** 31))),
  };
}

/** mulberry32: a seeded generator, so a failing soak's inputs and kill choices can be replayed with --seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Everything the soak started, so it can all be stopped whatever happens. */
const resources: { redis?: TestRedis; trigger?: GoTickEngine } = {};
let stopping = false;

async function cleanup(): Promise<void> {
  // A restart still under way must not bring a worker back after the sweep.
  stopping = true;
  await killAllWorkerProcesses().catch(() => undefined);
  await resources.trigger?.close().catch(() => undefined);
  await resources.redis?.stop().catch(() => undefined);
  resources.trigger = undefined;
  resources.redis = undefined;
}

async function soak(settings: Settings): Promise<boolean> {
  const random = generator(settings.seed);
  const began = Date.now();
  log(`chaos: ${settings.runs} runs, ${settings.workers} workers, a SIGKILL every ~${seconds(settings.killEveryMs)}, window ${seconds(settings.durationMs)}, seed ${settings.seed}`);

  const redis = (resources.redis = await startRedis());
  const prefix = 'chaos';
  const keys = new RunKeys(prefix);
  // Triggers and reads only: every execution happens in the worker processes.
  const trigger = (resources.trigger = new GoTickEngine({ connection: redis.url, prefix, worker: false }));
  for (const id of Object.values(WORKER_FLOWS)) {
    trigger.register({ id, handler: () => { throw new Error('flows run in worker processes only'); } });
  }
  await trigger.start();

  // Worker slots; each restart is a new incarnation with a name of its own, so its side effects and its death can be matched.
  const generation = new Array<number>(settings.workers).fill(0);
  const live = new Map<number, WorkerProcess>();
  const start = async (slot: number) => {
    if (stopping) return;
    const worker = await startWorkerProcess({
      url: redis.url,
      prefix,
      name: `w${slot}.${generation[slot]++}`,
      concurrency: settings.concurrency,
      lease: settings.lease,
    });
    if (stopping) await worker.kill();
    else live.set(slot, worker);
  };
  await Promise.all(generation.map((_, slot) => start(slot)));

  const inputs = Array.from({ length: settings.runs }, (): ChaosInput => ({
    napMs: 5 + Math.floor(random() * 150),
    parts: 2 + Math.floor(random() * 3),
    workMs: 10 + Math.floor(random() * 60),
  }));
  const runIds = inputs.map((_, i) => `run-${settings.seed}-${i}`);
  const unsettled = new Set<string>();
  let triggered = 0;
  const kills = new Map<string, number>();
  const restarts: Array<Promise<void>> = [];
  let failure: unknown;

  const triggerSpanMs = settings.durationMs * 0.9;
  const triggering = (async () => {
    while (triggered < settings.runs) {
      const due = Math.min(settings.runs, Math.ceil((settings.runs * (Date.now() - began)) / triggerSpanMs));
      const batch: Array<Promise<unknown>> = [];
      for (; triggered < due; triggered++) {
        unsettled.add(runIds[triggered]);
        batch.push(trigger.trigger(WORKER_FLOWS.chaos, inputs[triggered], { runId: runIds[triggered] }));
      }
      await Promise.all(batch);
      await sleep(50);
    }
  })();

  /** Drops the runs that reached an end from `unsettled`: one pipelined HGET per run still open. */
  const poll = async () => {
    const open = [...unsettled];
    const pipeline = redis.client.pipeline();
    for (const runId of open) pipeline.hget(keys.run(runId), 'status');
    const replies = (await pipeline.exec()) ?? [];
    open.forEach((runId, i) => {
      const status = replies[i]?.[1];
      if (status === 'completed' || status === 'failed' || status === 'cancelled') unsettled.delete(runId);
    });
  };
  const allDone = () => triggered === settings.runs && unsettled.size === 0;

  const killing = (async () => {
    let nextReport = Date.now() + 10_000;
    while (Date.now() - began < settings.durationMs && !allDone()) {
      await sleep(settings.killEveryMs * (0.75 + random() / 2));
      if (Date.now() - began >= settings.durationMs || allDone()) break;
      const candidates = [...live.keys()];
      if (candidates.length === 0) continue;
      const slot = candidates[Math.floor(random() * candidates.length)];
      const victim = live.get(slot)!;
      live.delete(slot);
      await victim.kill();
      // Taken after the process is gone: every tick of the victim's own is below it.
      kills.set(victim.name, await redis.client.incr(ticksKey(prefix)));
      restarts.push(start(slot).catch((err) => void (failure ??= err)));
      if (Date.now() >= nextReport) {
        await poll();
        log(`  ${seconds(Date.now() - began)}: ${triggered} triggered, ${triggered - unsettled.size} finished, ${kills.size} kills`);
        nextReport += 10_000;
      }
    }
  })();
  const polling = (async () => {
    while (!allDone() && Date.now() - began < settings.durationMs) {
      await poll();
      await sleep(250);
    }
  })();

  await Promise.all([triggering, killing, polling]);
  await Promise.all(restarts);
  if (failure) throw failure;
  const chaosEnded = Date.now();
  log(`  chaos over after ${seconds(chaosEnded - began)}: ${kills.size} kills; draining ${unsettled.size} open run(s)`);

  // No more kills: the live workers (and the reconciler) must finish every run still open.
  while (!allDone() && Date.now() - chaosEnded < settings.drainMs) {
    await poll();
    if (!allDone()) await sleep(100);
  }
  const duration = Date.now() - began;

  const evidence: RunEvidence[] = [];
  for (let i = 0; i < runIds.length; i += 100) {
    const slice = runIds.slice(i, i + 100);
    const pipeline = redis.client.pipeline();
    for (const runId of slice) pipeline.lrange(startsKey(prefix, runId), 0, -1).lrange(intervalsKey(prefix, runId), 0, -1);
    const replies = ((await pipeline.exec()) ?? []).map(([err, rows]) => {
      if (err) throw err;
      return (rows as string[]).map((row) => JSON.parse(row));
    });
    const views = await Promise.all(slice.map((runId) => trigger.getRun<ChaosInput>(runId)));
    slice.forEach((runId, j) => {
      const byTick = <T extends { start: number }>(rows: T[]) => rows.sort((a, b) => a.start - b.start);
      evidence.push({
        runId,
        input: inputs[i + j],
        view: views[j] as RunView<ChaosInput, unknown> | null,
        starts: byTick(replies[j * 2] as StepStart[]),
        intervals: byTick(replies[j * 2 + 1] as StepInterval[]),
      });
    });
  }
  const verdict = verify(evidence, kills);
  const ok = verdict.violations.length === 0;

  log('');
  log('chaos summary');
  log(`  runs:                ${settings.runs} (completed ${verdict.completed}, failed ${verdict.failed})`);
  log(`  lost runs:           ${verdict.lost.length}`);
  log(`  kills:               ${kills.size} (SIGKILL, each followed by a restart)`);
  log(`  step side effects:   ${verdict.bodies}`);
  log(`  steps repeated:      ${verdict.repeated} (bodies cut short by a kill: ${verdict.cutShort})`);
  log(`  overlapping execs:   ${verdict.overlaps}`);
  log(`  runs taken over:     ${verdict.takenOver} (more executions than their ${EXECUTIONS_WITHOUT_KILLS} without kills)`);
  log(`  executions per run:  avg ${(verdict.executions.total / settings.runs).toFixed(2)}, max ${verdict.executions.max}`);
  log(`  duration:            ${seconds(duration)}`);
  log(`  seed:                ${settings.seed}`);
  if (!ok) {
    log('');
    log(`VIOLATIONS (${verdict.violations.length}; the first 30):`);
    for (const line of verdict.violations.slice(0, 30)) log(`  ${line}`);
  }
  log(ok ? 'RESULT: PASS' : 'RESULT: FAIL');
  return ok;
}

async function main(): Promise<void> {
  let code = 1;
  try {
    code = (await soak(settingsFrom(process.argv.slice(2), process.env))) ? 0 : 1;
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error)?.stack ?? String(err)}\n`);
    log('RESULT: ERROR');
  } finally {
    await cleanup();
  }
  process.exit(code);
}

// Interrupted (Ctrl-C, a test runner giving up): the children and redis-server go with it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`chaos: ${signal}, cleaning up\n`);
    void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}

void main();
