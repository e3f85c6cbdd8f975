import { asDuration, toMs } from './duration';

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
