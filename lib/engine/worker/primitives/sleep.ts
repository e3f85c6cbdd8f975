import { checkTime, toMs, type Duration } from '../../../common/duration';
import type { SignalWaitHost } from './signals';
import type { ChildHost } from './child';

/** What the sleep primitives need of the execution they run in. */
export type SleepHost = Pick<SignalWaitHost, 'now' | 'stopped' | 'known' | 'seqOf' | 'stop' | 'parked'> & Pick<ChildHost, 'defer'>;

/** A call the flow got wrong (a bad duration or time): the run fails with it, the flow cannot catch it. */
function refuse(host: SleepHost, error: unknown, key: string): Promise<never> {
  return host.stop({ kind: 'fatal', error: error as Error, stepKey: key });
}

/** ctx.sleep: the wake time is fixed when the step is first reached, not on replay. */
export function sleepFor(host: SleepHost, key: string, duration: Duration): Promise<void> {
  let ms: number;
  try {
    ms = toMs(duration, `sleep "${key}" duration`);
  } catch (error) {
    return refuse(host, error, key);
  }
  return sleepStep(host, key, () => checkTime(host.now() + ms, `sleep "${key}" wake time (now + ${ms} ms)`));
}

/** ctx.sleepUntil: a Date or epoch milliseconds, checked to be a time the engine can store. */
export function sleepUntil(host: SleepHost, key: string, until: Date | number): Promise<void> {
  const at = until instanceof Date ? until.getTime() : until;
  try {
    checkTime(typeof at === 'number' ? at : NaN, `sleepUntil "${key}" time ${String(until)}`);
  } catch (error) {
    return refuse(host, error, key);
  }
  return sleepStep(host, key, () => at);
}

/**
 * A recorded sleep keeps its recorded wake time. One already due is passed
 * at once and recorded with the next write; one still ahead parks the run.
 */
async function sleepStep(host: SleepHost, key: string, dueAt: () => number): Promise<void> {
  if (host.stopped()) return host.parked();
  const known = host.known(key);
  if (known?.status === 'completed') return;
  const now = host.now();
  let wakeAt: number;
  try {
    wakeAt = known?.wakeAt ?? dueAt();
  } catch (error) {
    return refuse(host, error, key);
  }
  const seq = host.seqOf(key);
  if (wakeAt <= now) {
    // Written with the next step, not on its own: a lost marker only means the sleep is passed again.
    host.defer(key, { kind: 'sleep', status: 'completed', attempts: 1, seq, wakeAt, finishedAt: now, startedAt: known?.startedAt ?? now });
    return;
  }
  if (!known) host.defer(key, { kind: 'sleep', status: 'sleeping', attempts: 0, seq, wakeAt, startedAt: now });
  return host.stop({ kind: 'suspend', wakeAt });
}
