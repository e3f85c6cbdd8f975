// Concurrency caps: the slots and waiting lines of capped flows.
import type { RunStatus } from '../../common/types';

/** What slot-take made of an execution's (or a parked run's) request for a concurrency slot. */
export type SlotTake = 'taken' | 'full' | 'lined-up' | 'reserved';

/** What giving a slot back did to its group (see ConcurrencySlots.free). */
export interface SlotHandOver {
  /** Runs handed a slot now: the caller adds the job that starts each. */
  handed: string[];
  /** Runs still in the waiting line. */
  waiting: number;
  /** Runs handed a slot that have not started yet. */
  handovers: string[];
  /** When the earliest held slot lapses (ms; 0: none held). */
  nextLapse: number;
}

/**
 * Per-flow (per-key) concurrency slots, tied to the lease: an execution holds
 * its slot under its lease token, renews it with the lease, and a dead
 * worker's slot lapses with its lease. Runs over the cap wait in a line per
 * group, holding no job; a freed slot is handed to the head of the line.
 * Each group's keys share one Cluster slot; a registry of groups with waiting
 * runs lets the reconciler find those whose holders died.
 */
export interface ConcurrencySlots {
  /** 'take' mode of slot-take-2 ('taken' | 'full'), or 'join' for a parked run ('lined-up' | 'reserved'). */
  take(groupId: string, token: string, runId: string, limit: number, leaseMs: number, mode: 'take' | 'join', place: number): Promise<SlotTake>;
  /**
   * Parks a claimed run that found its group full (queued, lease cleared, claim
   * uncounted, its group recorded in the run); resolves with its whole-run
   * deadline, if it has one. Throws LeaseLostError, or CancelRequestedError when a cancel came first.
   */
  park(runId: string, token: string, groupId: string): Promise<{ deadline?: number }>;
  /**
   * Once a parked run is in line: it needs no reconciler timer (a freed slot or the group's look starts it),
   * but one at its `deadline` if it has one, to fail there. Not waited for.
   */
  waitTimer(runId: string, deadline: number | undefined): void;
  /**
   * Gives a run that waited in line (and so has no timer) its reconciler timer again, once it
   * holds a slot: should its execution die, the reconciler finds it. Not waited for.
   */
  rearmTimer(runId: string, at: number): void;
  /** Renews the execution's slot; false when it lapsed and is gone. */
  extend(groupId: string, token: string, leaseMs: number): Promise<boolean>;
  /** Gives back `token`'s slot and takes `runId` out of line (either may be ''), then hands free slots over. */
  free(groupId: string, token: string, runId: string, limit: number, leaseMs: number): Promise<SlotHandOver>;
  /** Asks the reconciler to look at the group by `at` (an earlier look already asked for stays). */
  watch(groupId: string, at: number): Promise<void>;
  /** Groups whose look is due by `now`. */
  dueGroups(now: number, limit: number): Promise<string[]>;
  /** Sets when the reconciler looks at the group next. */
  rewatch(groupId: string, at: number): Promise<void>;
  /** Drops the group from the registry. */
  unwatch(groupId: string): Promise<void>;
  /** A run's status (null when it is gone): the reconciler's check on a hand-over that does not start. */
  runStatus(runId: string): Promise<RunStatus | null>;
}
