import { runIdOf, type RunHandle } from '../common/api';
import { toMs, type Duration } from '../common/duration';
import { GoTickError, RunNotFoundError, UnknownFlowError, WaitForRunTimeoutError } from '../common/errors';
import { flowIdOf, type FlowRef } from '../common/flow-ref';
import type { RunView, StepView, WaitForRunOptions } from '../common/types';
import { encode } from '../engine/codec';
import type { GoTickEngine } from '../engine/engine';
import { EngineApi } from '../engine/engine-api';
import type { MemoryBackend } from './memory-backend';
import type { StepMock } from './step-mocks';

/** How many rounds of "fire what is due, run what is waiting" one call may take before it calls the flows runaway. */
const MAX_ROUNDS = 100_000;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/**
 * How long (wall time) the harness waits for executions under way before it
 * calls them stuck: the virtual clock cannot move while a step runs, so a step
 * waiting for something that never comes would hang the test silently.
 */
const STALL_MS = 10_000;

/** Lets every promise chain that can move now move (a macrotask turn drains the microtask queue). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Drives an engine on the in-memory backend: the TickService methods, plus a
 * virtual clock the test moves (advance, runUntilIdle), step mocks, and each
 * run's step history. Schedules fire on the virtual clock: `advance` starts
 * each slot's run at the slot's time (run id and overlap as on Redis). Get it from GoTickTestingModule (inject
 * GoTickTestHarness) or from createTestEngine().
 * @public
 */
export class GoTickTestHarness extends EngineApi {
  constructor(
    /** The engine under test (started). */
    readonly engine: GoTickEngine,
    private readonly backend: MemoryBackend,
  ) {
    super();
  }

  /** The virtual time, ms since the epoch. Flows read the same time through the engine (sleep, timeouts, step times). */
  now(): number {
    return this.backend.clock.now();
  }

  /**
   * Resolves with the run once it has ended, moving the virtual clock as far
   * as it must, timer by timer, but no further than `timeout` (default '30s'
   * of virtual time): a run that sleeps 30 days needs `{ timeout: '31d' }`.
   * Rejects with WaitForRunTimeoutError otherwise, as TickService does.
   */
  async waitForRun<TInput = unknown, TOutput = unknown>(run: RunHandle<TInput, TOutput>, options: WaitForRunOptions = {}): Promise<RunView<TInput, TOutput>> {
    const runId = runIdOf(run);
    const timeoutMs = toMs(options.timeout ?? '30s', 'timeout');
    const clock = this.backend.clock;
    const until = clock.now() + timeoutMs;
    for (;;) {
      await this.runUntilIdle();
      const view = await this.engine.getRun<TInput, TOutput>(runId);
      if (!view) throw new RunNotFoundError(runId);
      if (TERMINAL.has(view.status)) return view;
      const next = clock.nextDue();
      if (next === undefined || next > until) {
        clock.advanceTo(until);
        await this.runUntilIdle();
        const last = await this.engine.getRun<TInput, TOutput>(runId);
        if (last && TERMINAL.has(last.status)) return last;
        throw new WaitForRunTimeoutError(runId, timeoutMs, last?.status ?? view.status);
      }
      clock.advanceTo(next);
    }
  }

  /**
   * Moves the virtual clock forward by `duration`: every sleep, retry
   * backoff, signal timeout, whole-run timeout, delayed trigger and schedule
   * slot due by then fires, in time order, each with the clock at its own time; resolves once
   * the engine is idle again at the new time.
   */
  async advance(duration: Duration): Promise<void> {
    const ms = toMs(duration, 'advance duration');
    const clock = this.backend.clock;
    const target = clock.now() + ms;
    for (;;) {
      await this.runUntilIdle();
      const next = clock.nextDue();
      if (next === undefined || next > target) break;
      clock.advanceTo(next);
    }
    clock.advanceTo(target);
    await this.runUntilIdle();
  }

  /** Runs everything due now (the clock stays): waiting runs, timers due, and whatever they start. */
  async runUntilIdle(): Promise<void> {
    const queue = this.backend.queue;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      await turn();
      if (this.backend.clock.fireDue() > 0) continue;
      // A slot's run being started: its writes finish within the next turns.
      if (this.backend.schedules?.busy()) continue;
      if (queue?.busy()) {
        await this.idleOrStalled();
        continue;
      }
      return;
    }
    throw new GoTickError(`runUntilIdle: still busy after ${MAX_ROUNDS} rounds; a flow seems to loop without end (a sleep of 0 in a loop?).`);
  }

  private async idleOrStalled(): Promise<void> {
    const queue = this.backend.queue!;
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<true>((resolve) => (timer = setTimeout(() => resolve(true), STALL_MS)));
    try {
      if ((await Promise.race([queue.idle(), stalled])) !== true) return;
    } finally {
      clearTimeout(timer);
    }
    const runs = queue.activeRuns();
    const steps = await Promise.all(runs.map(async (runId) => (await this.engine.getRun(runId))?.steps.at(-1)?.key ?? '(no step yet)'));
    throw new GoTickError(
      `The engine is still busy after ${STALL_MS / 1000} s of wall time: ${runs.map((runId, i) => `run "${runId}" (last recorded step "${steps[i]}")`).join(', ')}. ` +
        'The virtual clock cannot move while a step runs: give the step a timeout, or mock it (mockStep) or the service it waits on.',
    );
  }

  /**
   * The step `key` of flow `flowId` runs `mock` instead of its body, from the
   * next time a run reaches it. Its result is recorded like a real one (a
   * completed step replays without calling the mock again); a mock that
   * throws fails the attempt, with the step's retries and backoff.
   * For an asyncArray, mock `key:<index>`.
   */
  mockStep(flow: string | FlowRef, key: string, mock: StepMock): void {
    this.backend.mocks.set(flowIdOf(flow), key, mock);
  }

  /**
   * A ctx.child or ctx.startChild of flow `flowId` gets `output` without the
   * child flow running: its child run is created completed with that output
   * (no execution, no hooks), and the parent's step is recorded as a real
   * child's, so replay, history and listRuns({ parentRunId }) read the same.
   * Counts from the next child run created; runs triggered directly still run.
   * @throws UnknownFlowError when no flow `flowId` is registered; NotSerializableError for an output that cannot be stored
   */
  mockChild<TOutput>(flow: FlowRef<any, TOutput>, output: TOutput): void;
  mockChild(flowId: string, output?: unknown): void;
  mockChild(flow: string | FlowRef, output?: unknown): void {
    const flowId = flowIdOf(flow);
    const flows = this.backend.flowIds();
    if (!flows.includes(flowId)) throw new UnknownFlowError(flowId, flows);
    this.backend.mocks.setChild(flowId, encode(output, `Mocked output of child flow "${flowId}"`));
  }

  /** Drops every step and child mock: steps and child flows run for real again. */
  clearMocks(): void {
    this.backend.mocks.clear();
  }

  /** The run's steps in the order the flow first reached them, with attempts, status, result and errors. */
  async history(runId: string): Promise<StepView[]> {
    const run = await this.engine.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run.steps;
  }

  /** Closes the engine (GoTickTestingModule does it when the Nest app closes). */
  close(): Promise<void> {
    return this.engine.close();
  }
}
