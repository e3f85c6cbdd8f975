/**
 * The longest delay setTimeout honours (about 24.8 days). Node fires a longer
 * one after 1 ms, with only a warning, so every Duration that meets a timer
 * goes through setLongTimeout or is clamped to this.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer from setLongTimeout. */
export interface LongTimer {
  cancel(): void;
}

/** setTimeout for any delay: past MAX_TIMER_MS it chains shorter timers until the time is reached. */
export function setLongTimeout(callback: () => void, delayMs: number): LongTimer {
  const dueAt = Date.now() + delayMs;
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(() => {
      const rest = dueAt - Date.now();
      if (rest > 0 && left > MAX_TIMER_MS) arm(rest);
      else callback();
    }, Math.min(Math.max(0, left), MAX_TIMER_MS));
  };
  arm(delayMs);
  return { cancel: () => clearTimeout(timer) };
}
