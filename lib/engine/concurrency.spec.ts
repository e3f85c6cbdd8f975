import { ConcurrencyKeyError, FlowDefinitionError } from '../common/errors';
import { concurrencyRule, parseSlotGroup, slotGroup } from './concurrency';

describe('concurrencyRule', () => {
  it('is undefined without a concurrency option', () => {
    expect(concurrencyRule('f', undefined)).toBeUndefined();
    expect(concurrencyRule('f', { timeout: '1m' })).toBeUndefined();
  });

  it('takes a number as a flow-wide limit (key "")', () => {
    const rule = concurrencyRule('f', { concurrency: 4 })!;
    expect(rule.limit).toBe(4);
    expect(rule.keyOf({ anything: 1 })).toBe('');
  });

  it('computes the key from the input', () => {
    const rule = concurrencyRule('f', { concurrency: { limit: 1, key: (input: { user: string }) => input.user } })!;
    expect(rule.keyOf({ user: 'u-7' })).toBe('u-7');
  });

  it.each([0, -1, 1.5, NaN, Infinity, '3', null])('refuses limit %p with FlowDefinitionError', (limit) => {
    expect(() => concurrencyRule('f', { concurrency: { limit } as never })).toThrow(FlowDefinitionError);
  });

  it('refuses a key that is not a function', () => {
    expect(() => concurrencyRule('f', { concurrency: { limit: 1, key: 'user' } as never })).toThrow(/concurrency key of flow "f" must be a function/);
  });

  it.each([
    ['throws', () => { throw new Error('no user'); }, /threw no user/],
    ['returns a number', () => 7, /returned 7/],
    ['returns an empty string', () => '', /returned a 0-character string/],
    ['returns 201 characters', () => 'x'.repeat(201), /returned a 201-character string/],
  ])('fails a run whose key function %s with ConcurrencyKeyError', (_what, key, message) => {
    const rule = concurrencyRule('orders/sync', { concurrency: { limit: 1, key: key as never } })!;
    expect(() => rule.keyOf({})).toThrow(ConcurrencyKeyError);
    expect(() => rule.keyOf({})).toThrow(message);
  });
});

describe('slot groups', () => {
  it('round-trip through their id, whatever the key holds', () => {
    const group = slotGroup('crm/sync', 'a"b}{|c');
    expect(parseSlotGroup(group.id)).toEqual(group);
    expect(parseSlotGroup('not json')).toBeUndefined();
    expect(parseSlotGroup('["only one"]')).toBeUndefined();
  });
});
