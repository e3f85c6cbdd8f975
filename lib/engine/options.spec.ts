import { GoTickConfigError } from '../common/errors';
import { resolveOptions } from './options';

describe('timer options', () => {
  it.each([
    ['shutdownTimeout', { shutdownTimeout: '25d' }],
    ['connectTimeout', { connectTimeout: 2 ** 31 }],
    ['worker.lease', { worker: { lease: '30d' } }],
  ])('%s past 2^31-1 ms (which setTimeout would fire after 1 ms) is refused by name', (name, options) => {
    expect(() => resolveOptions(options)).toThrow(GoTickConfigError);
    expect(() => resolveOptions(options)).toThrow(new RegExp(`Invalid ${name.replace('.', '\\.')} .*24\\.8 days`));
  });

  it('accepts the longest timer Node honours', () => {
    expect(resolveOptions({ shutdownTimeout: 2 ** 31 - 1 }).shutdownTimeoutMs).toBe(2 ** 31 - 1);
  });
});
