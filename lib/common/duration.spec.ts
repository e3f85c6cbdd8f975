import { toMs } from './duration';

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

});
