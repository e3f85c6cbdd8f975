import { toMs } from '../../../common/duration';
import { InvalidSignalNameError } from '../../../common/errors';
import type { ReceivedSignal, WaitForSignalOptions } from '../../../common/types';
import { decode, encode } from '../../codec';
import { CancelRequestedError, LeaseLostError } from '../../errors';
import type { SignalWaitRecords, StepRecord } from '../../ports';
import { packStep } from '../../redis/step-codec';
import type { Interrupt } from '../interrupt';
import type { Lease } from '../lease';

/** Signal names are hash fields of the mailbox and travel in URLs: any string, within reason. */
export const MAX_SIGNAL_NAME = 200;

/**
 * How long a wait without timeout stays parked before it looks at its
 * mailbox again. A signal wakes the run at once; this only bounds how long a
 * wake-up lost between the signal and its queue job (a crash in between) can
 * delay the run, and keeps such runs on the reconciler's timers.
 */
export const SIGNAL_RECHECK_MS = 60 * 60 * 1000;

export function checkSignalName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_SIGNAL_NAME) throw new InvalidSignalNameError(name);
}

/** Encodes a signal as the mailbox keeps it and the wait step records it. */
export function encodeSignal(name: string, payload: unknown, sentAt: number): string {
  return encode({ name, payload: payload ?? null, sentAt: new Date(sentAt) }, `Payload of signal "${name}"`)!;
}

/** What the signal primitive needs of the execution it runs in. */
export interface SignalWaitHost {
  readonly lease: Lease;
  /** The execution's clock. */
  now(): number;
  /** True once the execution stopped: no new wait may start. */
  stopped(): boolean;
  known(key: string): StepRecord | undefined;
  /** The step's position in the run (its recorded one on replay). */
  seqOf(key: string): number;
  remember(key: string, record: StepRecord): void;
  /** Keeps the round trip in flight so the runner waits for it before its last word. */
  track<T>(work: Promise<T>): Promise<T>;
  stop(interrupt: Interrupt): Promise<never>;
  parked<T>(): Promise<T>;
}

/** `since`: when the flow first reached the wait (the start of its bar on a timeline). */
function waitRecords(seq: number, name: string, now: number, timeoutAt: number | undefined, since: number): SignalWaitRecords {
  // The received record is packed around a marker, so the script can put the
  // stored signal in as the result without knowing the packed layout.
  const marker = '\u0000';
  const received = packStep({ kind: 'signal', status: 'completed', attempts: 1, seq, finishedAt: now, result: marker, startedAt: since });
  const [before, after] = received.split(JSON.stringify(marker));
  return {
    received: { before, after },
    timedOut: packStep({ kind: 'signal', status: 'completed', attempts: 1, seq, finishedAt: now, wakeAt: timeoutAt, result: encode(null, ''), startedAt: since }),
    waiting: packStep({ kind: 'signal', status: 'waiting', attempts: 0, seq, wakeAt: timeoutAt, waitingFor: name, startedAt: since }),
  };
}

/**
 * ctx.waitForSignal. A recorded result is returned as it is; otherwise one
 * fenced script decides the wait (signal, timeout, or keep waiting), and a
 * wait that keeps waiting parks the run until its timeout or a signal.
 */
export async function waitForSignal<T>(
  host: SignalWaitHost,
  key: string,
  name: string,
  options?: WaitForSignalOptions,
): Promise<ReceivedSignal<T> | null> {
  checkSignalName(name);
  if (host.stopped()) return host.parked();
  const known = host.known(key);
  if (known?.status === 'completed') return decode<ReceivedSignal<T> | null>(known.result);
  const now = host.now();
  // The timeout runs from the first time the flow reached the wait, recorded with the waiting step.
  const timeoutAt = known ? known.wakeAt : options?.timeout === undefined ? undefined : now + toMs(options.timeout, `timeout of signal wait "${key}"`);
  const seq = host.seqOf(key);
  const since = known?.startedAt ?? now;
  const records = waitRecords(seq, name, now, timeoutAt, since);
  let taken;
  try {
    taken = await host.track(host.lease.takeSignal({ stepKey: key, name, now, timeoutAt, records }));
  } catch (err) {
    return host.stop(
      err instanceof LeaseLostError
        ? { kind: 'lease-lost' }
        : err instanceof CancelRequestedError
          ? { kind: 'cancelled', reason: err.reason }
          : { kind: 'infra', error: err as Error },
    );
  }
  switch (taken.kind) {
    case 'received':
      host.remember(key, { kind: 'signal', status: 'completed', attempts: 1, seq, finishedAt: now, result: taken.signal, startedAt: since });
      return decode<ReceivedSignal<T>>(taken.signal);
    case 'timed-out':
      host.remember(key, { kind: 'signal', status: 'completed', attempts: 1, seq, finishedAt: now, wakeAt: timeoutAt, result: encode(null, ''), startedAt: since });
      return null;
    default:
      host.remember(key, { kind: 'signal', status: 'waiting', attempts: 0, seq, wakeAt: timeoutAt, waitingFor: name, startedAt: since });
      return host.stop({ kind: 'suspend', wakeAt: timeoutAt ?? now + SIGNAL_RECHECK_MS, signals: [name] });
  }
}
