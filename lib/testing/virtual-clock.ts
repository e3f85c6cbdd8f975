import type { Clock, ClockTimer } from '../engine/clock';

interface Pending {
  at: number;
  order: number;
  callback: () => void;
}

/**
 * A clock that moves only when told (advanceTo). Its timers are entries in a
 * list, not Node timers: nothing is left behind when a test ends, and a timer
 * due in 30 days costs nothing until the clock gets there.
 */
export class VirtualClock implements Clock {
  private current: number;
  /** Sorted by time, then by the order they were armed in (as Node fires equal timers). */
  private readonly pending: Pending[] = [];
  private armed = 0;

  constructor(start: number = Date.now()) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): ClockTimer {
    const entry: Pending = { at: this.current + Math.max(0, delayMs), order: this.armed++, callback };
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1].at > entry.at) i--;
    this.pending.splice(i, 0, entry);
    return {
      cancel: () => {
        const at = this.pending.indexOf(entry);
        if (at >= 0) this.pending.splice(at, 1);
      },
    };
  }

  /** When the earliest timer is due (undefined: none armed). */
  nextDue(): number | undefined {
    return this.pending[0]?.at;
  }

  /** Fires every timer due by now, in time order; returns how many fired. */
  fireDue(): number {
    let fired = 0;
    while (this.pending.length && this.pending[0].at <= this.current) {
      this.pending.shift()!.callback();
      fired++;
    }
    return fired;
  }

  /** Moves the clock forward to `at` (never back); fires nothing by itself. */
  advanceTo(at: number): void {
    if (at > this.current) this.current = at;
  }
}
