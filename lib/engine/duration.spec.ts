import { backoffMs } from './backoff';
import { toMs } from './duration';

describe('durations and backoff', () => {
  it('reads milliseconds and duration strings', () => {
    expect(toMs(250)).toBe(250);
    expect(toMs('3s')).toBe(3000);
    expect(toMs('5m')).toBe(300_000);
    expect(toMs('2d')).toBe(172_800_000);
  });

  it.each([-1, 'soon', '', Number.NaN])('refuses %p with a message that shows the accepted forms', (value) => {
    expect(() => toMs(value as never, 'sleep')).toThrow(/Invalid sleep .*'3s'/);
  });

  it('grows exponential backoff up to its cap, and keeps fixed backoff flat', () => {
    const exponential = { type: 'exponential' as const, delay: '1s', maxDelay: '5s' };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffMs(exponential, attempt))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffMs({ type: 'fixed', delay: 200 }, 7)).toBe(200);
    expect(backoffMs('250ms', 3)).toBe(250);
  });
});
