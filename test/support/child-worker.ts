import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { GoTickEngine } from '../../lib/engine';
import { startRedis, type TestRedis } from './redis-server';

/**
 * A GoTick worker node in its own OS process (test/fixtures/worker-process.ts),
 * so a test can SIGKILL it the way a host or container dies: no shutdown hook,
 * no finally block, no lease handed back.
 */

const REPO_ROOT = join(__dirname, '..', '..');
const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'worker-process.ts');

/** Flows the fixture registers; a trigger-only engine in the test registers the same ids. */
export const WORKER_FLOWS = {
  /** memo "reserve" -> task "charge" -> task "ship". */
  checkout: 'crash/checkout',
  /** task "before" -> sleep "nap" (input.napMs) -> task "after". */
  nap: 'crash/nap',
  /** task "before" -> sleepUntil "alarm" (input.at, ms since the epoch) -> task "after". */
  alarm: 'shared/alarm',
  /** task step-0 -> sleep nap-0 -> task step-1 -> sleep nap-1 -> task step-2, each task timed. */
  pipeline: 'shared/pipeline',
  /**
   * memo "first" -> memo "held" -> memo "after", each returning the name of the
   * worker that ran it; output { first, held, after }. "held" announces a
   * "step-returning" event when its body is about to return, and a success
   * hook counts completions (hooksKey) and announces "run-succeeded".
   */
  handover: 'fencing/handover',
  /**
   * The chaos soak's mix: memo "reserve" -> task "charge" -> sleep "nap"
   * (input.napMs) -> task "flaky" (throws on attempt 1) -> ctx.wait of
   * asyncArray "part" (input.parts futures, part:i returns i*i) -> memo "total"
   * (their sum); output { ticket: "ticket-<runId>", total }. Every body lasts
   * input.workMs and is recorded in startsKey/intervalsKey with its attempt.
   */
  chaos: 'chaos/mix',
  /**
   * task "spin" (retries 2): holds the event loop for input.blockMs from its
   * first instruction (no heartbeat, no lock renewal meanwhile), then writes
   * <input.doneFile>.<worker name> (if given) synchronously and counts its side effect; output 'spun'.
   */
  spin: 'lease/spin',
  /**
   * task "held" (announces "step-started", then waits until its signal aborts and
   * stores the abort reason under abortedKey) -> task "next". An OnFlowCancel
   * hook pushes { reason, worker } to cancelHooksKey.
   */
  abortable: 'cancel/abortable',
  /** task "before" -> waitForSignal "paid" (signal "payment", no timeout) -> task "after"; output: the payload. */
  payment: 'signal/payment',
  /**
   * Concurrency limit 1: task "hold" (announced, hangs where hangOn names it), whose body then
   * works input.workMs (default 50) recorded as an interval like the chaos flow's; output: the worker's name.
   */
  limited: 'conc/limited',
  /** task "work" (side effect); output "done:<runId>". The child of the two flows below. */
  kid: 'child/kid',
  /** startChild "kid" (a child/kid run) -> task "after"; output: the child's runId. */
  startsKid: 'child/starts-kid',
  /** child "kid" (a child/kid run, awaited) -> task "after"; output: the child's output. */
  awaitsKid: 'child/awaits-kid',
} as const;

// The fixture's side-effect bookkeeping lives outside the engine's prefix, so
// it can never be mistaken for (or collide with) engine state.

/** Incremented once per attempt of a step's body: how many times the side effect happened. */
export const effectKey = (prefix: string, runId: string, stepKey: string): string => `fx:${prefix}:${runId}:${stepKey}`;
/** A list of JSON events the fixture pushes ("a step started"), for the test to BLPOP. */
export const eventsKey = (prefix: string): string => `events:${prefix}`;
/** While absent, a step listed in `gatedOn` does not return; the test sets it to let those steps finish. */
export const gateKey = (prefix: string, stepKey: string): string => `gate:${prefix}:${stepKey}`;
/** One JSON record per step body begun: which execution started it, at which tick. */
export const startsKey = (prefix: string, runId: string): string => `starts:${prefix}:${runId}`;
/** One JSON record per step body finished: the same, plus the tick it ended at. */
export const intervalsKey = (prefix: string, runId: string): string => `iv:${prefix}:${runId}`;
/** A global counter every step start and end increments: a total order of events across processes. */
export const ticksKey = (prefix: string): string => `ticks:${prefix}`;
/** What the abortable flow's "held" task saw in `signal.reason` when it was aborted (JSON: name, message, worker). */
export const abortedKey = (prefix: string, runId: string): string => `aborted:${prefix}:${runId}`;
/** One JSON entry per OnFlowCancel hook call of the abortable flow. */
export const cancelHooksKey = (prefix: string, runId: string): string => `cancelled:${prefix}:${runId}`;
/** The finished spans (SpanRecord JSON) a tracing worker pushes when it is stopped. */
export const spansKey = (prefix: string): string => `spans:${prefix}`;
/** Incremented by a flow's success hook: how many times the run was reported completed. */
export const hooksKey = (prefix: string, runId: string): string => `ok:${prefix}:${runId}`;

export interface StepEvent {
  /** "step-returning" and "run-succeeded" come only from the handover flow. */
  type: 'step-started' | 'step-returning' | 'run-succeeded';
  runId: string;
  /** The step's key; '' for "run-succeeded". */
  key: string;
  attempt: number;
  worker: string;
  /** What the step is about to return, for "step-returning". */
  value?: unknown;
}

export interface StepStart {
  key: string;
  /** The attempt number the engine gave the body (recorded by the chaos flow only). */
  attempt?: number;
  worker: string;
  /** One id per execution (per replay of the flow from the top), unique across processes. */
  execution: string;
  /** Tick of ticksKey(prefix) when the body began. */
  start: number;
}

export interface StepInterval extends StepStart {
  /** Tick when the body ended. */
  end: number;
}

export interface WorkerOptions {
  url: string;
  prefix: string;
  name: string;
  concurrency?: number;
  lease?: string;
  /** Step keys whose body, once started, never returns in this process (a task "mid-flight" when the kill comes). */
  hangOn?: string[];
  /** Step keys whose body, once started, waits until the test sets gateKey(prefix, key). */
  gatedOn?: string[];
  /** Shifts this process's clock (Date.now), as on a host whose time is off. */
  clockOffsetMs?: number;
  /** Hands the engine ioredis options with auto-pipelining on (commands wait for setImmediate), as an app may. */
  autoPipelining?: boolean;
  /**
   * Registers the OpenTelemetry SDK (in-memory exporter) and runs the engine with `tracing: true`;
   * on stop() the process pushes its finished spans to spansKey(prefix) before it exits.
   */
  tracing?: boolean;
}

export interface WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited, with its code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: the process dies at once, mid-whatever. */
  kill(): Promise<void>;
  /** SIGTERM: the fixture closes its engine gracefully, then exits. */
  stop(): Promise<void>;
  /**
   * SIGSTOP, resolved once the kernel reports the process stopped: it keeps
   * its sockets and its state but runs no code, as under a long GC pause, a
   * VM migration or a laptop lid closed. Its leases and job locks lapse.
   */
  freeze(): Promise<void>;
  /** SIGCONT, resolved once the process is running again: it carries on where it stood, unaware of the gap. */
  thaw(): Promise<void>;
}

const alive = new Set<WorkerProcess>();

/** Starts a worker process and resolves once its engine has started (its worker takes jobs). */
export async function startWorkerProcess(options: WorkerOptions): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      GOTICK_URL: options.url,
      GOTICK_PREFIX: options.prefix,
      WORKER_NAME: options.name,
      WORKER_CONCURRENCY: String(options.concurrency ?? 5),
      WORKER_LEASE: options.lease ?? '1500ms',
      WORKER_HANG_ON: (options.hangOn ?? []).join(','),
      WORKER_GATED_ON: (options.gatedOn ?? []).join(','),
      WORKER_CLOCK_OFFSET_MS: String(options.clockOffsetMs ?? 0),
      WORKER_AUTO_PIPELINING: options.autoPipelining ? '1' : '',
      WORKER_TRACING: options.tracing ? '1' : '',
    },
    // stdin stays a pipe so the fixture notices if this (parent) process dies and exits too.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let frozen = false;
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const worker: WorkerProcess = {
    name: options.name,
    child,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      alive.delete(worker);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        // A stopped process keeps a SIGTERM pending until it runs again.
        if (frozen) child.kill('SIGCONT');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      alive.delete(worker);
    },
    async freeze() {
      child.kill('SIGSTOP');
      frozen = true;
      await waitForProcessState(child, true);
    },
    async thaw() {
      child.kill('SIGCONT');
      frozen = false;
      await waitForProcessState(child, false);
    },
  };
  alive.add(worker);
  try {
    await new Promise<void>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`worker ${options.name} did not start within 20 s; stderr:\n${stderr}`)), 20_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('READY\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`worker ${options.name} exited (code ${code}, signal ${signal}) before it was ready; stderr:\n${stderr}`));
      });
    });
  } catch (err) {
    await worker.kill();
    throw err;
  }
  return worker;
}

/** The kernel's state letter of a process: 'T' (or 't') while it is stopped by a signal. */
function processState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces; the state follows its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    // No procfs (macOS): ask ps.
    return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim().charAt(0);
  }
}

/** SIGSTOP and SIGCONT are delivered asynchronously: wait until the kernel shows the process in the state asked for. */
async function waitForProcessState(child: ChildProcess, stopped: boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process ${child.pid} exited while waiting for it to ${stopped ? 'stop' : 'continue'}`);
    if ((processState(child.pid!).toUpperCase() === 'T') === stopped) return;
    if (Date.now() > deadline) throw new Error(`process ${child.pid} did not ${stopped ? 'stop' : 'continue'} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** For afterEach/afterAll: SIGKILLs every worker process still alive, so a failed test leaves none behind. */
export async function killAllWorkerProcesses(): Promise<void> {
  await Promise.all([...alive].map((worker) => worker.kill()));
}

/**
 * Takes events off the fixture's event list (BLPOP on a dedicated connection)
 * until `count` of them match, or fails once `timeoutMs` has passed.
 */
export async function takeEvents(
  blocking: Redis,
  prefix: string,
  match: (event: StepEvent) => boolean,
  count: number,
  timeoutMs = 15_000,
): Promise<StepEvent[]> {
  const deadline = Date.now() + timeoutMs;
  const found: StepEvent[] = [];
  while (found.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms: ${found.length} of ${count} expected events arrived`);
    const reply = await blocking.blpop(eventsKey(prefix), Math.max(0.05, left / 1000));
    if (!reply) continue;
    const event = JSON.parse(reply[1]) as StepEvent;
    if (match(event)) found.push(event);
  }
  return found;
}

/**
 * The fixture's events, taken off the list with BLPOP like takeEvents, but
 * kept: a test can wait for one event and later look at everything that
 * arrived before it (takeEvents drops what its matcher refuses).
 */
export class EventLog {
  readonly events: StepEvent[] = [];

  constructor(
    private readonly blocking: Redis,
    private readonly prefix: string,
  ) {}

  /** Resolves with the first `count` matching events, once that many have arrived; fails at the deadline. */
  async waitFor(match: (event: StepEvent) => boolean, count = 1, timeoutMs = 15_000): Promise<StepEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.filter(match);
      if (found.length >= count) return found.slice(0, count);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms: ${found.length} of ${count} expected events arrived`);
      const reply = await this.blocking.blpop(eventsKey(this.prefix), Math.max(0.05, left / 1000));
      if (reply) this.events.push(JSON.parse(reply[1]) as StepEvent);
    }
  }

  /** Takes whatever is on the list now, without waiting, and returns every event seen so far. */
  async drain(): Promise<StepEvent[]> {
    for (;;) {
      const row = await this.blocking.lpop(eventsKey(this.prefix));
      if (row === null) return this.events;
      this.events.push(JSON.parse(row) as StepEvent);
    }
  }
}

/**
 * The test process's own engine in process-based tests: it only triggers and
 * observes (worker: false); every execution happens in a child process.
 */
export async function startTriggerOnlyEngine(url: string, prefix: string): Promise<GoTickEngine> {
  const engine = new GoTickEngine({ connection: url, prefix, worker: false });
  for (const id of Object.values(WORKER_FLOWS)) {
    engine.register({ id, handler: () => { throw new Error('flows run in worker processes only'); } });
  }
  await engine.start();
  return engine;
}

/** How many times each step's side effect happened in a run (0 when never). */
export async function readEffects(client: Redis, prefix: string, runId: string, keys: string[]): Promise<Record<string, number>> {
  const counts = await client.mget(...keys.map((key) => effectKey(prefix, runId, key)));
  return Object.fromEntries(keys.map((key, i) => [key, Number(counts[i] ?? 0)]));
}

/** What a process-based test file works with; set in its hooks, so read it inside tests. */
export interface WorkerProcessesEnv {
  redis: TestRedis;
  /** A client of its own for blocking reads (BLPOP) of the workers' events. */
  blocking: Redis;
  /** The test's trigger-only engine, on this test's prefix. */
  trigger: GoTickEngine;
  /** A fresh prefix per test, so tests of one file never see each other's runs. */
  prefix: string;
  effects(runId: string, keys: string[]): Promise<Record<string, number>>;
}

/**
 * The usual hooks of a process-based test file: one private redis-server,
 * a trigger-only engine on a new prefix per test, and every worker process
 * SIGKILLed after each test (SIGKILL ends a stopped process too).
 */
export function useWorkerProcesses(prefixBase: string): WorkerProcessesEnv {
  let testNo = 0;
  const env = {
    effects: (runId: string, keys: string[]) => readEffects(env.redis.client, env.prefix, runId, keys),
  } as WorkerProcessesEnv;
  beforeAll(async () => {
    env.redis = await startRedis();
    env.blocking = env.redis.client.duplicate();
  });
  beforeEach(async () => {
    env.prefix = `${prefixBase}${++testNo}`;
    env.trigger = await startTriggerOnlyEngine(env.redis.url, env.prefix);
  });
  afterEach(async () => {
    await killAllWorkerProcesses();
    await env.trigger?.close();
  });
  afterAll(async () => {
    env.blocking?.disconnect();
    await env.redis?.stop();
  });
  return env;
}
