import type { StatusSetter } from '../../../common/flow-context';
import { decode } from '../../codec';
import type { StepRecord } from '../../ports';
import type { SleepHost } from './sleep';

/** What ctx.useStatus needs of the execution it runs in. */
export interface StatusHost extends SleepHost {
  /** Encodes a value to store, or throws NotSerializableError / PayloadTooLargeError naming `what`. */
  encodeChecked(value: unknown, what: string): string | undefined;
  /** Writes the step (and anything deferred) now; false when the execution had to stop instead. */
  write(key: string, record: StepRecord): Promise<boolean>;
}

/**
 * ctx.useStatus: a value the flow can read back on every replay and update
 * at any time. The initial value rides along with the next write; each set
 * is a write of its own, awaited, so what the run view shows is what was set.
 */
export async function useStatus<T>(host: StatusHost, key: string, initial: T): Promise<[T, StatusSetter<T>]> {
  if (host.stopped()) return host.parked();
  const known = host.known(key);
  const seq = host.seqOf(key);
  const value = known ? decode<T>(known.result) : initial;
  const record = (v: T): StepRecord => ({
    kind: 'status',
    status: 'completed',
    attempts: 0,
    seq,
    result: host.encodeChecked(v, `Status "${key}"`),
    finishedAt: host.now(),
  });
  if (!known) host.defer(key, record(initial));
  const set: StatusSetter<T> = async (next) => {
    if (!(await host.write(key, record(next)))) return host.parked();
  };
  return [value, set];
}
