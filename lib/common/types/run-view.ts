// What a run looks like to its callers: statuses, the run and step views, pages and counts.

/** @public */
export type RunStatus = 'queued' | 'running' | 'sleeping' | 'completed' | 'failed' | 'cancelled';

/** @public */
export const RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'sleeping', 'completed', 'failed', 'cancelled'];

/** @public */
export type StepKind = 'task' | 'memo' | 'status' | 'sleep' | 'array' | 'async' | 'signal' | 'child';

/**
 * `running` = an attempt in flight; `retrying` = failed, waiting for its backoff; `sleeping` = a timer not
 * yet due; `waiting` = waiting for a signal (see `waitingFor`).
 * @public
 */
export type StepStatus = 'completed' | 'failed' | 'retrying' | 'sleeping' | 'running' | 'waiting';

/**
 * An error as stored and shown: name and message, and the failing attempt's
 * stack where there was one (trimmed to 30 lines, node internals left out).
 * The stack is kept on a run's error and on a step's latest error only; HTTP
 * error responses never carry one.
 * @public
 */
export interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

/** One failed attempt of a step. @public */
export interface StepErrorView extends ErrorInfo {
  attempt: number;
  /** When the attempt failed. */
  at: string;
  /** When the attempt began (with `at`: its bar on a timeline; the gap to the next attempt is the backoff). */
  startedAt?: string;
}

/** One step of a run, as getRun shows it. @public */
export interface StepView {
  key: string;
  kind: StepKind;
  status: StepStatus;
  attempts: number;
  result?: unknown;
  errors?: StepErrorView[];
  /** When a sleeping step or a retry backoff is due (for a signal wait: its timeout). */
  wakeAt?: string;
  finishedAt?: string;
  /**
   * When the attempt in flight began (status running); on a finished step,
   * when its last attempt began; on a sleep or signal wait, when the flow
   * reached it. With `finishedAt`: the step's bar on a timeline.
   */
  startedAt?: string;
  /** The worker node running the attempt in flight. */
  node?: string;
  /** The signal name a waiting step waits for. */
  waitingFor?: string;
  /**
   * The `ctx.wait` the step ran in, counted from 1 in the order the flow
   * reached them: steps with one waitGroup ran side by side (fan-out), and
   * the flow went on once all had ended (fan-in). Absent outside a wait, and
   * on a step of a wait while its attempt is in flight.
   */
  waitGroup?: number;
  /** The run a `child` step started (ctx.child, ctx.startChild). */
  childRunId?: string;
}

/** A run as TickService.getRun and GET /runs/:runId show it. @public */
export interface RunView<TInput = unknown, TOutput = unknown> {
  runId: string;
  flowId: string;
  status: RunStatus;
  input?: TInput;
  output?: TOutput;
  error?: ErrorInfo & { stepKey?: string };
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** When a sleeping run wakes up next. */
  wakeAt?: string;
  /** How many times a worker picked the run up (first run, resumes, crash recovery). */
  executions: number;
  /** The run that started this one with ctx.child / ctx.startChild. */
  parentRunId?: string;
  /** The parent's step that started this run. */
  parentStepKey?: string;
  /** How many times `retry(runId)` sent the run back to the queue. */
  retries?: number;
  /** The schedule that started the run (see `schedule`), when one did. */
  scheduleId?: string;
  /** The schedule slot the run stands for (ISO time): the time the cron or interval named, not when the run started. */
  slotAt?: string;
  /** The errors of the attempts before the last retry, oldest first (at most 10). */
  previousErrors?: PreviousRunError[];
  /**
   * Why a `queued` run has not started: its flow's concurrency cap is full and
   * the run waits in line for a slot. Absent on every other run: one no worker
   * has picked up yet, and one that holds its slot (running), sleeps or has
   * ended. A run just handed a freed slot keeps it until its execution starts
   * (the hand-over's job starts it at once). In run lists too.
   */
  waitingForSlot?: SlotWait;
  steps: StepView[];
}

/** A run's place in a concurrency line: see {@link RunView.waitingForSlot}. @public */
export interface SlotWait {
  /**
   * The concurrency key the run waits on: what the flow's `concurrency.key`
   * returned for its input (e.g. `'customer-42'`). `''` when the cap has no
   * `key`: one line for the whole flow.
   */
  key: string;
  /**
   * When the run joined the line (ISO time).
   */
  since: string;
}

/** The error a run had before `retry(runId)` cleared it. @public */
export interface PreviousRunError extends ErrorInfo {
  stepKey?: string;
  /** When that attempt of the run finished (ISO time). */
  failedAt?: string;
}

/** A page of runs, newest first; pass `nextCursor` back to read on. @public */
export interface RunPage {
  runs: RunSummary[];
  nextCursor?: string;
}

/** A run without its steps, for lists. @public */
export type RunSummary = Omit<RunView, 'steps' | 'input' | 'output'>;

/**
 * Runs of one flow by status, as countRuns answers. Statuses are read from
 * the newest `counted` runs (at most 10,000), so a flow with more runs shows
 * the recent ones; `total` counts them all.
 * @public
 */
export interface RunCounts {
  flowId: string;
  /** Every run the flow's index holds (runs past their retention count until the index sweeper drops them). */
  total: number;
  /** How many of the newest runs `byStatus` was read from. */
  counted: number;
  /** Runs among the newest `counted` in each status (every status is present, 0 when none). */
  byStatus: Record<RunStatus, number>;
}
