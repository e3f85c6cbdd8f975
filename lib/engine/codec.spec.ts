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

describe('codec: values JSON alone would change', () => {
  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['-0', -0],
  ])('keeps %s, alone and nested', (_name, n) => {
    expect(Object.is(decode(encode(n, 'x')), n)).toBe(true);
    const back = decode<{ a: number[]; b: { c: number } }>(encode({ a: [1, n], b: { c: n } }, 'x'));
    expect(Object.is(back.a[1], n)).toBe(true);
    expect(Object.is(back.b.c, n)).toBe(true);
  });

  it('keeps an Invalid Date an Invalid Date', () => {
    const back = decode<Date>(encode(new Date(NaN), 'x'));
    expect(back).toBeInstanceOf(Date);
    expect(Number.isNaN(back.getTime())).toBe(true);
  });

  it.each([
    ['a Map', new Map([['a', 1]]), /Map is not stored/],
    ['a Set', new Set([1]), /Set is not stored/],
    ['a Buffer', Buffer.from('hi'), /Buffer is not stored/],
    ['a Uint8Array', new Uint8Array([1, 2]), /Uint8Array is not stored/],
    ['a Float64Array', new Float64Array([1.5]), /Float64Array is not stored/],
    ['an ArrayBuffer', new ArrayBuffer(4), /ArrayBuffer is not stored/],
  ])('refuses %s (JSON would turn it into something else), naming the step', (_name, value, reason) => {
    expect(() => encode({ deep: [value] }, 'Result of step "k"')).toThrow(NotSerializableError);
    expect(() => encode({ deep: [value] }, 'Result of step "k"')).toThrow(reason);
    expect(() => encode(value, 'Result of step "k"')).toThrow('Result of step "k" cannot be stored');
  });
});

describe('codec: user data that spells a reserved tag', () => {
  it.each([
    { '$gotick:date': '2020-01-01T00:00:00.000Z' },
    { '$gotick:date': 'not a date' },
    { '$gotick:num': 'NaN' },
    { '$$gotick:date': 'x', '$gotick:other': 1 },
    { nested: [{ '$$$gotick:num': '-0' }], __proto__x: 1 },
  ])('comes back as it went in: %j', (value) => {
    expect(decode(encode(value, 'x'))).toStrictEqual(value);
  });

  it('keeps "__proto__" and "constructor" keys as data', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"constructor":"c","$gotick:date":{"__proto__":2}}');
    const back = decode<Record<string, unknown>>(encode(value, 'x'));
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(['__proto__', 'constructor', '$gotick:date']);
    expect(JSON.stringify(back)).toBe(JSON.stringify(value));
  });

  // A tiny seeded generator (no dependency): a few hundred JSON values built
  // from ordinary strings, tag look-alikes, odd numbers and nesting.
  function generator(seed: number) {
    let state = seed;
    const rand = () => ((state = (state * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)];
    const keys = ['a', 'b', '$', '$$', '$gotick:date', '$gotick:num', '$$gotick:date', '$$$gotick:num', '$gotick:', 'gotick:date', '__proto__', 'constructor', '', 'é😀'];
    const strings = ['', 'x', '$gotick:date', '2020-01-01T00:00:00.000Z', 'NaN', '-0', 'Infinity', '\u0000', '😀'];
    const value = (depth: number): unknown => {
      const roll = rand();
      if (depth > 4 || roll < 0.35) return pick<unknown>([null, true, false, 0, 1.5, -7, 1e300, ...strings]);
      if (roll < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      const object: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 4); i > 0; i--) put(object, pick(keys), value(depth + 1));
      return object;
    };
    return value;
  }
  const put = (target: Record<string, unknown>, key: string, value: unknown) =>
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });

  // JSON text with each value's type spelled out, so a Date standing where a string was cannot pass.
  const typed = (value: unknown): string => {
    if (value === null || typeof value !== 'object') return `${typeof value}:${JSON.stringify(value)}`;
    if (Array.isArray(value)) return `[${value.map(typed).join(',')}]`;
    if (Object.getPrototypeOf(value) !== Object.prototype) return `not-plain:${String(value)}`;
    return `{${Object.keys(value).map((k) => `${JSON.stringify(k)}=${typed((value as Record<string, unknown>)[k])}`).join(',')}}`;
  };

  it('round-trips 500 generated JSON values exactly (same JSON text, no Dates or numbers invented)', () => {
    const value = generator(42);
    let tagLike = 0;
    for (let i = 0; i < 500; i++) {
      const original = value(0);
      const text = JSON.stringify(original);
      if (text.includes('gotick:')) tagLike++;
      const back = decode(encode(original, 'x'));
      expect(JSON.stringify(back)).toBe(text);
      expect(typed(back)).toBe(typed(original));
    }
    // The generator must actually exercise the tags, or this test proves nothing.
    expect(tagLike).toBeGreaterThan(100);
  });
});
