import { CancelRequestedError, LeaseLostError } from '../../engine/errors';
import type { MailboxStore, SendResult, StepWrite, TakeResult } from '../../engine/ports';
import { STEP_FIELD } from '../../engine/redis/keys';
import { packStep } from '../../engine/redis/step-codec';
import type { RunStatus } from '../../common/types';
import { TERMINAL, type MemoryDb } from './memory-db';

const count = (value: string | undefined) => Number(value ?? 0);

/**
 * The MailboxStore in memory, field for field as lua/signal-2.lua and
 * lua/take-signal-2.lua keep it: n (signals held), t:<name> (seq of the
 * newest), h:<name> (seq of the last taken), m:<name>:<seq> (a signal),
 * w:<name> (the run waits for that name).
 */
export class MemoryMailboxStore implements MailboxStore {
  constructor(private readonly db: MemoryDb) {}

  async send(runId: string, name: string, signal: string, max: number): Promise<SendResult> {
    const run = this.db.run(runId);
    if (!run) return { kind: 'missing' };
    const status = run.get('status')!;
    if (TERMINAL.has(status)) return { kind: 'finished', status: status as RunStatus };
    const box = this.db.mailboxFor(runId);
    if (count(box.get('n')) >= max) return { kind: 'full' };
    const seq = count(box.get(`t:${name}`)) + 1;
    box.set(`t:${name}`, String(seq)).set(`m:${name}:${seq}`, signal).set('n', String(count(box.get('n')) + 1));
    return { kind: 'stored', wake: status === 'sleeping' && box.has(`w:${name}`) };
  }

  async take(runId: string, token: string, wait: Parameters<MailboxStore['take']>[2], steps: readonly StepWrite[]): Promise<TakeResult> {
    const run = this.db.run(runId);
    if (!run || run.get('lease') !== token) throw new LeaseLostError(runId);
    const cancelRequested = run.get('cancelRequested');
    if (cancelRequested !== undefined) throw new CancelRequestedError(runId, cancelRequested);
    for (const [key, record] of steps) run.set(STEP_FIELD + key, packStep(record));
    const { name, records } = wait;
    const field = STEP_FIELD + wait.stepKey;
    const box = this.db.mailboxFor(runId);
    const head = count(box.get(`h:${name}`));
    const tail = count(box.get(`t:${name}`));
    if (head < tail) {
      const signal = box.get(`m:${name}:${head + 1}`)!;
      box.delete(`m:${name}:${head + 1}`);
      box.delete(`w:${name}`);
      if (head + 1 === tail) {
        box.delete(`h:${name}`);
        box.delete(`t:${name}`);
      } else {
        box.set(`h:${name}`, String(head + 1));
      }
      const left = count(box.get('n')) - 1;
      if (left <= 0) box.delete('n');
      else box.set('n', String(left));
      run.set(field, records.received.before + JSON.stringify(signal) + records.received.after);
      return { kind: 'received', signal };
    }
    if (wait.timeoutAt !== undefined && wait.now >= wait.timeoutAt) {
      box.delete(`w:${name}`);
      run.set(field, records.timedOut);
      return { kind: 'timed-out' };
    }
    box.set(`w:${name}`, '1');
    run.set(field, records.waiting);
    return { kind: 'waiting' };
  }

  async holdsAny(runId: string, names: readonly string[]): Promise<boolean> {
    const box = this.db.mailbox(runId);
    return box !== undefined && names.some((name) => count(box.get(`t:${name}`)) > count(box.get(`h:${name}`)));
  }

  async expire(runId: string, retentionMs: number): Promise<void> {
    this.db.expireMailbox(runId, retentionMs);
  }
}
