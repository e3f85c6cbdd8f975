import { GoTickConfigError } from '../common/errors';
import { resolveOptions, type GoTickEngineOptions } from './options';

/** Options as a user might write them in plain JavaScript or from an env var: the types do not protect them. */
const loose = (options: unknown) => options as GoTickEngineOptions;

describe('engine options', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveOptions({});
    expect(resolved).toMatchObject({
      prefix: 'gotick',
      leaseMs: 30_000,
      concurrency: 10,
      maxPayloadBytes: 1024 * 1024,
      retentionMs: 7 * 86_400_000,
      partitions: 1,
      connectTimeoutMs: 10_000,
      shutdownTimeoutMs: 10_000,
      retries: 3,
      backoff: { type: 'exponential', delay: '1s', maxDelay: '5m' },
    });
  });

  it('accepts every option at the edge of its range', () => {
    const resolved = resolveOptions({
      worker: { concurrency: 1, lease: '1s' },
      retention: 0,
      limits: { maxPayloadBytes: 1 },
      connectTimeout: 1,
      shutdownTimeout: 0,
      partitions: 1024,
      defaults: { retries: 0, backoff: { type: 'fixed', delay: 0, maxDelay: '1m' } },
    });
    expect(resolved).toMatchObject({ concurrency: 1, leaseMs: 1000, retentionMs: 0, maxPayloadBytes: 1, retries: 0, partitions: 1024 });
    expect(resolveOptions({ worker: false }).concurrency).toBe(1);
    expect(resolveOptions({ defaults: { backoff: '250ms' } }).backoff).toBe('250ms');
  });

  // Each row: the bad option, and the name the error must carry so the user knows which line to fix.
  it.each<[string, unknown, string]>([
    ['retention forever', { retention: 'forever' }, 'retention'],
    ['negative retention', { retention: -1 }, 'retention'],
    ['concurrency 0', { worker: { concurrency: 0 } }, 'worker.concurrency'],
    ['fractional concurrency', { worker: { concurrency: 2.5 } }, 'worker.concurrency'],
    ['concurrency as a string', { worker: { concurrency: '10' } }, 'worker.concurrency'],
    ['an unreadable lease', { worker: { lease: 'long' } }, 'worker.lease'],
    ['a lease under half a second', { worker: { lease: 499 } }, 'worker.lease'],
    ['worker true', { worker: true }, 'worker'],
    ['partitions 0', { partitions: 0 }, 'partitions'],
    ['partitions NaN', { partitions: Number.NaN }, 'partitions'],
    ['maxPayloadBytes 0', { limits: { maxPayloadBytes: 0 } }, 'limits.maxPayloadBytes'],
    ['maxPayloadBytes as a string', { limits: { maxPayloadBytes: '1mb' } }, 'limits.maxPayloadBytes'],
    ['connectTimeout 0', { connectTimeout: 0 }, 'connectTimeout'],
    ['connectTimeout soon', { connectTimeout: 'soon' }, 'connectTimeout'],
    ['negative shutdownTimeout', { shutdownTimeout: -5 }, 'shutdownTimeout'],
    ['negative retries', { defaults: { retries: -1 } }, 'defaults.retries'],
    ['retries Infinity', { defaults: { retries: Infinity } }, 'defaults.retries'],
    ['an unreadable backoff', { defaults: { backoff: 'later' } }, 'defaults.backoff'],
    ['an unknown backoff type', { defaults: { backoff: { type: 'linear', delay: '1s' } } }, 'defaults.backoff'],
    ['a bad backoff delay', { defaults: { backoff: { type: 'fixed', delay: 'x' } } }, 'defaults.backoff.delay'],
    ['a bad backoff maxDelay', { defaults: { backoff: { type: 'exponential', delay: '1s', maxDelay: -1 } } }, 'defaults.backoff.maxDelay'],
    ['a prefix with a colon', { prefix: 'a:b' }, 'prefix'],
    ['ioredis keyPrefix', { connection: { keyPrefix: 'x:' } }, 'keyPrefix'],
    ['a logger without warn', { logger: { log() {}, error() {} } }, 'logger'],
  ])('refuses %s with GoTickConfigError naming it', (_, options, name) => {
    let thrown: unknown;
    try {
      resolveOptions(loose(options));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(GoTickConfigError);
    expect((thrown as Error).message).toContain(name);
  });
});

describe('timer options', () => {
  it.each([
    ['shutdownTimeout', { shutdownTimeout: '25d' }],
    ['connectTimeout', { connectTimeout: 2 ** 31 }],
    ['worker.lease', { worker: { lease: '30d' } }],
  ])('%s past 2^31-1 ms (which setTimeout would fire after 1 ms) is refused by name', (name, options) => {
    expect(() => resolveOptions(loose(options))).toThrow(GoTickConfigError);
    expect(() => resolveOptions(loose(options))).toThrow(new RegExp(`Invalid ${name.replace('.', '\\.')} .*24\\.8 days`));
  });

  it('accepts the longest timer Node honours', () => {
    expect(resolveOptions({ shutdownTimeout: 2 ** 31 - 1 }).shutdownTimeoutMs).toBe(2 ** 31 - 1);
  });
});
