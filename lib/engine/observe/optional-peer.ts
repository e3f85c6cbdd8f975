import { GoTickConfigError } from '../../common/errors';

/**
 * Loads an optional peer dependency when the option that needs it is on,
 * never at import time: an app without tracing or metrics need not install
 * @opentelemetry/api or prom-client.
 */
export function optionalPeer<T>(name: string, option: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException)?.code !== 'MODULE_NOT_FOUND') throw err;
    throw new GoTickConfigError(`The ${option} option needs the package "${name}": npm install ${name} (or turn ${option} off).`);
  }
}
