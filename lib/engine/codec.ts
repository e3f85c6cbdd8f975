import { plainToInstance, ClassConstructor } from 'class-transformer';
import { NotSerializableError } from '../common/errors';

// Values JSON cannot carry are stored as one-key tagged objects, so a replayed
// memo returns what the first run did:
//   { "$gotick:date": "<ISO>" }                       a Date
//   { "$gotick:num": "NaN" | "Infinity" | "-Infinity" | "-0" }
// User keys that could be read as a tag (anything of the form "$...$gotick:...")
// get one more leading "$" on encode and lose it on decode, so any JSON value
// comes back exactly as it went in, even one that spells a tag.
const DATE_TAG = '$gotick:date';
const NUM_TAG = '$gotick:num';
const ESCAPABLE = /^\$+gotick:/;
const ESCAPED = /^\$\$+gotick:/;
const DOLLAR = 36;

/** Sets a property as data, even when the key is "__proto__". */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Copies `source` with every key renamed by `rename` (order kept); the copy is only built when a key starts with "$". */
function renameKeys(source: Record<string, unknown>, pattern: RegExp, rename: (key: string) => string): Record<string, unknown> {
  let hit = false;
  for (const key in source) {
    if (key.charCodeAt(0) === DOLLAR && pattern.test(key)) {
      hit = true;
      break;
    }
  }
  if (!hit) return source;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) put(copy, pattern.test(key) ? rename(key) : key, source[key]);
  return copy;
}

function numberTag(value: number): string | undefined {
  if (value !== value) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0 && 1 / value < 0) return '-0';
  return undefined;
}

const NUMBERS: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };

/** Why a value that JSON would silently change is refused; undefined when it is data. */
function refusal(raw: object): string | undefined {
  if (raw instanceof Map) return 'a Map is not stored (convert it with Object.fromEntries(map) or [...map])';
  if (raw instanceof Set) return 'a Set is not stored (convert it with [...set])';
  if (ArrayBuffer.isView(raw) || raw instanceof ArrayBuffer || raw instanceof SharedArrayBuffer) {
    return `a ${raw.constructor?.name ?? 'binary buffer'} is not stored (convert it to a string, e.g. buffer.toString('base64'), or to an array of numbers)`;
  }
  return undefined;
}

// JSON.stringify calls toJSON (Date, Buffer) before the replacer runs, so the
// replacer looks at the raw holder value (this[key]) to know what it was.
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  switch (typeof raw) {
    case 'number': {
      const tag = numberTag(raw);
      return tag === undefined ? value : { [NUM_TAG]: tag };
    }
    case 'object':
      if (raw === null) return value;
      if (raw instanceof Date) return { [DATE_TAG]: Number.isNaN(raw.getTime()) ? 'Invalid Date' : raw.toISOString() };
      if (raw.constructor !== Object && raw.constructor !== undefined && !Array.isArray(raw)) {
        const reason = refusal(raw);
        if (reason) throw new TypeError(reason);
      }
      break;
    case 'function':
      throw new TypeError('a function is not data');
    case 'symbol':
      throw new TypeError('a symbol is not data');
    case 'bigint':
      throw new TypeError('a BigInt has no JSON form (convert it to a string)');
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return renameKeys(value as Record<string, unknown>, ESCAPABLE, (k) => `$${k}`);
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  const date = record[DATE_TAG];
  if (typeof date === 'string') return new Date(date);
  const num = record[NUM_TAG];
  if (typeof num === 'string' && num in NUMBERS) return NUMBERS[num];
  return renameKeys(record, ESCAPED, (k) => k.slice(1));
}

/**
 * Encodes a value for Redis. `undefined` encodes to undefined (nothing stored).
 * Throws NotSerializableError naming `what` for functions, BigInt, symbols,
 * cycles, Map, Set and binary buffers (which JSON would silently change).
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
