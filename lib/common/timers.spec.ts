import { MAX_TIMER_MS, setLongTimeout } from './timers';

describe('setLongTimeout', () => {
  afterEach(() => jest.useRealTimers());

  it('fires a delay of 2^31 ms or more at its time, not after 1 ms (setTimeout overflow)', () => {
    jest.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    setLongTimeout(() => fired.push(Date.now()), 2 ** 31);
    setLongTimeout(() => fired.push(Date.now()), 40 * 86_400_000);
    jest.advanceTimersByTime(1000);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).toEqual([2 ** 31]);
    jest.advanceTimersByTime(40 * 86_400_000);
    expect(fired).toEqual([2 ** 31, 40 * 86_400_000]);
  });

  it('fires short delays once, and not at all once cancelled', () => {
    jest.useFakeTimers({ now: 0 });
    let calls = 0;
    setLongTimeout(() => calls++, 50);
    setLongTimeout(() => calls++, 3 * MAX_TIMER_MS).cancel();
    jest.advanceTimersByTime(4 * MAX_TIMER_MS);
    expect(calls).toBe(1);
  });
});
