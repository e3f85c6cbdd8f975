import { setLongTimeout } from '../common/timers';

/** A timer armed on a Clock. */
export interface ClockTimer {
  cancel(): void;
}

/**
 * Where the engine reads the time and arms its run timers. The real one is
 * Date.now and setTimeout; the testing kit's virtual clock moves only when a
 * test says so, which is how a 30-day sleep passes in milliseconds.
 */
export interface Clock {
  now(): number;
  /** Calls `callback` once `delayMs` have passed on this clock (any delay: longer than setTimeout's limit too). */
  setTimer(callback: () => void, delayMs: number): ClockTimer;
}

/** Wall time and Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => setLongTimeout(callback, delayMs),
};
