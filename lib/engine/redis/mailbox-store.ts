import { CancelRequestedError, LeaseLostError } from '../errors';
import type { MailboxStore, SendResult, StepWrite, TakeResult } from '../ports';
import type { RunStatus } from '../../common/types';
import type { RedisClient } from './connection';
import { RunKeys, STEP_FIELD } from './keys';
import { guarded } from './guarded';
import { defineScriptFiles } from './scripts';
import { packStep } from './step-codec';

const SCRIPTS = { sendSignal: 'signal-2.lua', takeSignal: 'take-signal-2.lua' } as const;

/** The MailboxStore on Redis: one hash per run beside the run hash (same slot); layout in lua/signal-2.lua. */
export class RedisMailboxStore implements MailboxStore {
  private readonly redis: ReturnType<typeof defineScriptFiles<keyof typeof SCRIPTS>>;
  private readonly keys: RunKeys;

  constructor(client: RedisClient, prefix: string) {
    this.redis = defineScriptFiles(client, SCRIPTS);
    this.keys = new RunKeys(prefix);
  }

  async send(runId: string, name: string, signal: string, max: number): Promise<SendResult> {
    const reply = (await guarded(this.redis.sendSignal(this.keys.run(runId), this.keys.mailbox(runId), name, signal, max))) as [number, unknown?];
    switch (reply[0]) {
      case 0:
        return { kind: 'missing' };
      case 2:
        return { kind: 'finished', status: reply[1] as RunStatus };
      case 3:
        return { kind: 'full' };
      default:
        return { kind: 'stored', wake: reply[1] === 1 };
    }
  }

  async take(
    runId: string,
    token: string,
    wait: Parameters<MailboxStore['take']>[2],
    steps: readonly StepWrite[],
  ): Promise<TakeResult> {
    const deferred: string[] = [];
    for (const [key, record] of steps) deferred.push(STEP_FIELD + key, packStep(record));
    const { records } = wait;
    const reply = (await guarded(
      this.redis.takeSignal(
        this.keys.run(runId),
        this.keys.mailbox(runId),
        token,
        STEP_FIELD + wait.stepKey,
        wait.name,
        wait.now,
        wait.timeoutAt ?? '',
        records.received.before,
        records.received.after,
        records.timedOut,
        records.waiting,
        ...deferred,
      ),
    )) as [number, string?];
    switch (reply[0]) {
      case -1:
        throw new LeaseLostError(runId);
      case -2:
        throw new CancelRequestedError(runId, reply[1] ?? '');
      case 1:
        return { kind: 'received', signal: reply[1]! };
      case 2:
        return { kind: 'timed-out' };
      default:
        return { kind: 'waiting' };
    }
  }

  async holdsAny(runId: string, names: readonly string[]): Promise<boolean> {
    if (names.length === 0) return false;
    const fields = names.flatMap((name) => [`h:${name}`, `t:${name}`]);
    const values = await guarded(this.redis.hmget(this.keys.mailbox(runId), ...fields));
    return names.some((_, i) => Number(values[2 * i + 1] ?? 0) > Number(values[2 * i] ?? 0));
  }

  async expire(runId: string, retentionMs: number): Promise<void> {
    if (retentionMs > 0) await guarded(this.redis.pexpire(this.keys.mailbox(runId), retentionMs));
  }
}
