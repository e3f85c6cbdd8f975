// What the ports carry: runs, steps and the replies of the run scripts, as stored.
import type { ErrorInfo, RunStatus, StepKind, StepStatus } from '../../common/types';

/** A run as stored: payloads stay encoded strings until someone reads them. */
export interface RunRecord {
  runId: string;
  flowId: string;
  status: RunStatus;
  input?: string;
  output?: string;
  error?: ErrorInfo & { stepKey?: string };
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  wakeAt?: number;
  executions: number;
  /** Whole-run timeout given at trigger time (ms). */
  timeoutMs?: number;
  /** First start + timeoutMs, fixed by the first claim. */
  deadline?: number;
  /** Set (to the reason, maybe '') once a cancel was requested. */
  cancelRequested?: string;
  /** The schedule whose slot started the run. */
  scheduleId?: string;
  /** That slot's time (ms). */
  slotAt?: number;
  /** How many times the run was retried. */
  retries?: number;
  /** When a node first handed the run back for not having its flow (cleared by retry and by a node that has it). */
  unknownFlowSince?: number;
  /** The concurrency group (JSON [flowId, key]) the run last waited in for a slot. */
  slotGroup?: string;
  /** When the run last joined its concurrency group's line (ms); set only while it waits there (cleared by its next claim). */
  slotWaitAt?: number;
  /** Errors of earlier attempts of the run, oldest first (set by retry). */
  previousErrors?: Array<ErrorInfo & { stepKey?: string; failedAt?: number }>;
  /** W3C traceparent of the span that triggered the run (tracing on). */
  traceparent?: string;
  /** W3C traceparent of the last execution's span (tracing on), for the next execution's link. */
  lastTrace?: string;
  /** The run that started this one as a child, and its step. */
  parentRunId?: string;
  parentStepKey?: string;
  /** The parent waits for this run (ctx.child): its end must wake the parent. */
  wakeParent?: boolean;
}

/** How a child run is tied to the run that started it. */
export interface ParentLink {
  runId: string;
  stepKey: string;
  /** ctx.child (the parent parks until this run ends) rather than ctx.startChild. */
  waits: boolean;
}

/** The end of a run, as a parent waiting for it reads it. */
export interface RunEnding {
  status: RunStatus;
  output?: string;
  error?: ErrorInfo;
}

/** A step as stored, one JSON value per step key. */
export interface StepRecord {
  kind: StepKind;
  status: StepStatus;
  attempts: number;
  /** Order of first appearance in the run, so views list steps as the flow ran them. */
  seq: number;
  result?: string;
  /** `startedAt`: when that attempt began (absent on records written before it was kept). */
  errors?: Array<ErrorInfo & { attempt: number; at: number; startedAt?: number }>;
  wakeAt?: number;
  finishedAt?: number;
  /** When the attempt in flight (status running) began; on a finished step, when its last attempt began (a sleep or signal wait: when the flow reached it). */
  startedAt?: number;
  /** Which worker node runs the attempt in flight. */
  node?: string;
  /** The signal name a `waiting` step waits for. */
  waitingFor?: string;
  /** The ctx.wait the step ran in: 1 for the run's first wait, 2 for the next... (steps outside a wait have none). */
  waitGroup?: number;
  /** The run a `child` step started. */
  childRunId?: string;
}

export type ClaimResult =
  | {
      kind: 'claimed';
      run: RunRecord;
      steps: Map<string, StepRecord>;
      /** The run must end without running the flow: a cancel was requested, or its deadline passed. */
      stop?: 'cancelled' | 'timeout';
      /** Taken from an execution whose lease lapsed while it ran the run (it blocked its event loop, or died). */
      takeover?: boolean;
    }
  | { kind: 'missing' }
  /** `slotGroup`: the concurrency group the run waited in (it may still hold a place there). */
  | { kind: 'finished'; status: RunStatus; slotGroup?: string }
  | { kind: 'busy'; retryInMs: number }
  /** The job of a repeated trigger, for a run another trigger created and that is under way: drop it. */
  | { kind: 'spare' };

export type RunOutcome =
  | { status: 'completed'; output?: string }
  | { status: 'failed' | 'cancelled'; error: ErrorInfo & { stepKey?: string } };

export type CancelReply =
  | { kind: 'missing' }
  /**
   * Was parked (queued or sleeping) and is cancelled now: the caller owes the OnFlowCancel hooks,
   * and the wake-up of `wakeParent`, the parent waiting for this run (ctx.child).
   */
  | { kind: 'cancelled'; flowId: string; input?: string; wakeParent?: string }
  | { kind: 'finished'; status: RunStatus }
  /** Running: the request is stored; the executing node must be nudged. */
  | { kind: 'requested'; reason: string };

export type StepWrite = readonly [key: string, record: StepRecord];

/** Puts a step back as it was before an attempt that was stopped (null: the step had no record, delete it). */
export type StepRewind = readonly [key: string, record: StepRecord | null];

/** A live run past its timer, as the reconciler sees it. */
export interface OverdueRun {
  runId: string;
  status: RunStatus | null;
  wakeAt?: number;
  leaseUntil?: number;
  /** Id of the last resume job recorded for the run (by suspend or the reconciler). */
  resumeJob?: string;
  /** How many executions the run has had: names the timer pump's job for its last park (RunQueue.wakeJobId). */
  executions?: number;
}

/** A sleeping run's wake-up, claimed by the timer pump: it now needs its queue job. */
export interface DueWake {
  runId: string;
  wakeAt: number;
  /** The run's executions (mod 1000) when it parked: tells this wake-up's job from its last park's. */
  seq: number;
}
