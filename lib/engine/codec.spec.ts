import { decode, encode } from './codec';
import { NotSerializableError } from '../common/errors';

describe('codec', () => {
  it('round-trips plain data and Dates, nested or not', () => {
    const value = { at: new Date('2025-01-02T03:04:05.006Z'), list: [1, 'a', null, { when: new Date(0) }], flag: true };
    const back = decode<typeof value>(encode(value, 'x'));
    expect(back).toEqual(value);
    expect(back.at).toBeInstanceOf(Date);
    expect((back.list[3] as { when: Date }).when).toBeInstanceOf(Date);
  });

  it('stores undefined as nothing and reads nothing back as undefined', () => {
    expect(encode(undefined, 'x')).toBeUndefined();
    expect(decode(undefined)).toBeUndefined();
  });

  it.each([
    ['a function', () => 1, /function/],
    ['a BigInt', 10n, /BigInt/],
    ['a symbol', Symbol('s'), /symbol/],
  ])('refuses %s, naming what could not be stored', (_name, value, reason) => {
    expect(() => encode({ nested: value }, 'Result of step "k"')).toThrow(NotSerializableError);
    expect(() => encode({ nested: value }, 'Result of step "k"')).toThrow(reason);
    expect(() => encode({ nested: value }, 'Result of step "k"')).toThrow('Result of step "k"');
  });

  it('refuses circular objects with a plain explanation', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => encode(loop, 'Input')).toThrow('Input cannot be stored: it contains a circular reference');
  });
});
