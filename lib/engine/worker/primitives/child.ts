import { ChildFlowFailedError, GoTickError, RedisUnavailableError, RunNotFoundError, StepFailedError } from '../../../common/errors';
import type { Duration } from '../../../common/duration';
import { flowIdOf, type FlowRef } from '../../../common/flow-ref';
import { isFinished } from '../../../common/run-status';
import type { ChildOptions, ErrorInfo } from '../../../common/types';
import { decode, encode } from '../../codec';
import type { ParentLink, RunEnding, StepRecord } from '../../ports';
import { childRunIdOf } from '../../run-id';
import type { SignalWaitHost } from './signals';

/**
 * How long a parent waiting for its child stays parked before it looks at
 * the child again. The child's end wakes the parent at once; this only bounds
 * how long a wake-up lost to a crash can delay it (the parent's timer usually
 * catches that within seconds, see ChildRunService), and keeps such runs on
 * the reconciler's timers.
 */
export const CHILD_RECHECK_MS = 60 * 60 * 1000;

/** What the child primitive needs of the engine: starting a child run and reading how it ended. */
export interface ChildRuns {
  /** Creates the child run once (created false: it existed) and enqueues it. */
  start(flowId: string, input: unknown, child: { runId: string; timeout?: Duration; capMs?: number; parent: ParentLink }): Promise<{ created: boolean }>;
  /** How the run ended so far (null when it is gone). */
  ending(runId: string): Promise<RunEnding | null>;
}

/** What the child primitive needs of the execution it runs in. */
export interface ChildHost extends Pick<SignalWaitHost, 'now' | 'stopped' | 'known' | 'seqOf' | 'track' | 'stop' | 'parked'> {
  readonly runId: string;
  /** The parent's whole-run deadline, which caps its child's timeout. */
  readonly deadline?: number;
  readonly children?: ChildRuns;
  /** Keeps a step record for the execution's next write (or its suspend / finish). */
  defer(key: string, record: StepRecord): void;
  /** Like track, and the runner waits for it even when the run is cancelled or times out meanwhile. */
  holdEnding<T>(work: Promise<T>): Promise<T>;
}

/** The ChildFlowFailedError a failed child step (re)throws: built from its record, so a replay throws the same. */
function childFailure(key: string, record: StepRecord): ChildFlowFailedError {
  const last = record.errors?.[record.errors.length - 1] ?? { name: 'Error', message: 'unknown error' };
  return new ChildFlowFailedError(key, record.childRunId ?? '', decode<string>(record.result) ?? 'failed', { name: last.name, message: last.message });
}

/**
 * ctx.child (`waits`) and ctx.startChild. The first time the step is reached
 * the child run is created under a runId derived from this run's id and the
 * key, so a replay, a crash before the step was recorded, or two racing
 * executions find it there instead of starting another. ctx.child then parks
 * the run (a `waiting` step naming the child) until the child's end wakes it;
 * on that resume it reads how the child ended and records the step with it.
 */
export async function runChild(
  host: ChildHost,
  key: string,
  flow: string | FlowRef<any, any>,
  input: unknown,
  options: ChildOptions | undefined,
  waits: boolean,
): Promise<unknown> {
  if (host.stopped()) return host.parked();
  const known = host.known(key);
  if (known?.status === 'completed') return waits ? decode(known.result) : known.childRunId;
  if (known?.status === 'failed') {
    if (known.childRunId === undefined || !waits) throw new StepFailedError(key, known.attempts, known.errors?.[known.errors.length - 1] ?? { name: 'Error', message: 'unknown error' });
    throw childFailure(key, known);
  }
  const seq = host.seqOf(key);
  const childRunId = known?.childRunId ?? childRunIdOf(host.runId, key);
  const now = host.now();
  if (!known) {
    // The child's record is deferred in the same tracked piece as its creation, and the runner waits for that
    // piece before its last word, even when a cancel stops the run meanwhile: the cancel's finish then writes
    // the record, and the cascade that reads it finds this child.
    const created = host.holdEnding(
      (async (): Promise<ErrorInfo | undefined> => {
        try {
          if (!host.children) throw new GoTickError('Child runs need an engine that has started (ctx.child / ctx.startChild).');
          const capMs = host.deadline === undefined ? undefined : host.deadline - now;
          await host.children.start(flowIdOf(flow), input, { runId: childRunId, timeout: options?.timeout, capMs, parent: { runId: host.runId, stepKey: key, waits } });
        } catch (err) {
          if (err instanceof RedisUnavailableError || !(err instanceof GoTickError)) throw err;
          // The call itself was wrong (unknown flow, an input that cannot be stored): retrying cannot help.
          const info: ErrorInfo = { name: err.name, message: err.message };
          host.defer(key, { kind: 'child', status: 'failed', attempts: 1, seq, finishedAt: now, errors: [{ ...info, attempt: 1, at: now }] });
          return info;
        }
        host.defer(
          key,
          waits
            ? { kind: 'child', status: 'waiting', attempts: 0, seq, childRunId }
            : // Deferred to the next write: lost with a crash, the replay finds the same child and records it then.
              { kind: 'child', status: 'completed', attempts: 1, seq, finishedAt: now, result: encode(childRunId, ''), childRunId },
        );
        return undefined;
      })(),
    );
    let refused: ErrorInfo | undefined;
    try {
      refused = await created;
    } catch (err) {
      return host.stop({ kind: 'infra', error: err as Error });
    }
    if (refused) throw new StepFailedError(key, 1, refused);
    if (!waits) return childRunId;
    // No look at the child here: the runner looks once its suspend is written (see RunExecutor), which
    // also catches a child that ended in between, and costs nothing when (as almost always) it has not.
    return host.stop({ kind: 'suspend', wakeAt: now + CHILD_RECHECK_MS, children: [childRunId] });
  }
  let ending: RunEnding | null;
  try {
    ending = await host.track(host.children!.ending(childRunId));
  } catch (err) {
    return host.stop({ kind: 'infra', error: err as Error });
  }
  if (ending && !isFinished(ending.status)) return host.stop({ kind: 'suspend', wakeAt: now + CHILD_RECHECK_MS, children: [childRunId] });
  if (ending?.status === 'completed') {
    host.defer(key, { kind: 'child', status: 'completed', attempts: 1, seq, finishedAt: now, result: ending.output, childRunId });
    return decode(ending.output);
  }
  const gone = new RunNotFoundError(childRunId);
  const error = ending ? (ending.error ?? { name: 'Error', message: `ended ${ending.status}` }) : { name: gone.name, message: gone.message };
  const record: StepRecord = {
    kind: 'child',
    status: 'failed',
    attempts: 1,
    seq,
    finishedAt: now,
    result: encode(ending?.status ?? 'missing', ''),
    errors: [{ name: error.name, message: error.message, attempt: 1, at: now }],
    childRunId,
  };
  host.defer(key, record);
  throw childFailure(key, record);
}
