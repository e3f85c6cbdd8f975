import { GoTickConfigError } from '../../common/errors';
import { optionalPeer } from './optional-peer';
import { formatTraceparent, parseTraceparent } from './traceparent';

describe('optionalPeer', () => {
  it('loads an installed package', () => {
    expect(optionalPeer<{ Registry: unknown }>('prom-client', 'metrics').Registry).toBeDefined();
  });

  it('names the package to install and the option that needs it when it is missing', () => {
    expect(() => optionalPeer('@gotick-test/not-installed', 'tracing')).toThrow(GoTickConfigError);
    expect(() => optionalPeer('@gotick-test/not-installed', 'tracing')).toThrow(
      'The tracing option needs the package "@gotick-test/not-installed": npm install @gotick-test/not-installed (or turn tracing off).',
    );
  });
});

describe('traceparent', () => {
  it('round-trips a sampled span context as W3C traceparent', () => {
    const context = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
    expect(formatTraceparent(context)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    expect(parseTraceparent(formatTraceparent(context))).toEqual({ ...context, isRemote: true });
  });

  it('ignores what is not a valid version-00 traceparent', () => {
    for (const bad of [undefined, '', 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });
});
