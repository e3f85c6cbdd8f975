import { plainToInstance, ClassConstructor } from 'class-transformer';
import { NotSerializableError } from '../common/errors';

// Dates are tagged so a replayed memo of a Date is a Date again. JSON.stringify
// calls Date#toJSON before the replacer runs, so the replacer looks at the raw
// holder value (this[key]) rather than the already-stringified one.
const DATE_TAG = '$gotick:date';

function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date) return { [DATE_TAG]: raw.toISOString() };
  switch (typeof raw) {
    case 'function':
      throw new TypeError('a function is not data');
    case 'symbol':
      throw new TypeError('a symbol is not data');
    case 'bigint':
      throw new TypeError('a BigInt has no JSON form (convert it to a string)');
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && DATE_TAG in value) {
    return new Date((value as Record<string, string>)[DATE_TAG]);
  }
  return value;
}

/**
 * Encodes a value for Redis. `undefined` encodes to undefined (nothing stored).
 * Throws NotSerializableError naming `what` for functions, BigInt, cycles.
 */
export function encode(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.stringify({ v: value }, replacer);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new NotSerializableError(what, /circular/i.test(reason) ? 'it contains a circular reference' : reason);
  }
}

export function decode<T = unknown>(text: string | undefined | null, type?: ClassConstructor<T>): T {
  if (text === undefined || text === null || text === '') return undefined as T;
  const value = (JSON.parse(text, reviver) as { v: unknown }).v;
  return (type && value !== null && typeof value === 'object' ? plainToInstance(type, value) : value) as T;
}
