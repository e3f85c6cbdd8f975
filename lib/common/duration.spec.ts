import { checkTime, MAX_TIME_MS, toMs } from './duration';
import { InvalidDurationError } from './errors';

describe('durations', () => {
  it('reads milliseconds and duration strings', () => {
    expect(toMs(250)).toBe(250);
    expect(toMs('3s')).toBe(3000);
    expect(toMs('5m')).toBe(300_000);
    expect(toMs('2d')).toBe(172_800_000);
  });

  it.each([-1, 'soon', '', Number.NaN])('refuses %p with a message that shows the accepted forms', (value) => {
    expect(() => toMs(value as never, 'sleep')).toThrow(/Invalid sleep .*'3s'/);
  });

  it.each([1e16, '300000y', Infinity])('refuses %p, past what the engine stores, with InvalidDurationError', (value) => {
    expect(() => toMs(value as never, 'sleep "k" duration')).toThrow(InvalidDurationError);
  });

  it('accepts points in time up to the end of year 9999 and refuses any later or non-finite one', () => {
    expect(checkTime(MAX_TIME_MS, 'wake time')).toBe(MAX_TIME_MS);
    expect(new Date(MAX_TIME_MS).toISOString()).toBe('9999-12-31T23:59:59.999Z');
    for (const at of [MAX_TIME_MS + 1, 1e20, NaN, -Infinity]) expect(() => checkTime(at, 'wake time')).toThrow(InvalidDurationError);
  });
});
