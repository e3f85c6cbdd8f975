import { asDuration, checkTime, MAX_TIME_MS, toMs } from './duration';
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

  it('reads the long forms and a space before the unit', () => {
    expect(toMs('1.5 hours')).toBe(5_400_000);
    expect(toMs('1 week')).toBe(604_800_000);
    expect(toMs('10 minutes')).toBe(600_000);
  });

  it('asDuration passes a readable env value through and names a bad one', () => {
    expect(asDuration('3s', 'CLOSE_AFTER')).toBe('3s');
    expect(() => asDuration('soon', 'CLOSE_AFTER')).toThrow(/Invalid CLOSE_AFTER "soon"/);
  });
});
