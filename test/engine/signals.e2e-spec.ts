import { Redis } from 'ioredis';
import {
  InvalidSignalNameError,
  PayloadTooLargeError,
  RunFinishedError,
  RunNotFoundError,
  SignalMailboxFullError,
  type Duration,
  type FlowContext,
  type ReceivedSignal,
} from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

type Got = ReceivedSignal<{ amount: number }> | null;

describe('signals on a real Redis', () => {
  const env = useEngines();

  /** A flow that waits for `payment` (optionally with a timeout) and returns what it got. */
  const payFlow = (seen: Got[], timeout?: Duration) => ({
    id: 'pay',
    handler: async (ctx: FlowContext) => {
      const got = await ctx.waitForSignal<{ amount: number }>('payment', 'payment', timeout === undefined ? undefined : { timeout });
      seen.push(got);
      return got;
    },
  });

  const stepOf = async (engine: { getRun: (id: string) => Promise<any> }, runId: string, key: string) =>
    (await engine.getRun(runId))?.steps.find((s: { key: string }) => s.key === key);

  it('delivers a signal to a run waiting for it, and wakes it at once', async () => {
    const seen: Got[] = [];
    const engine = await env.harness.start([payFlow(seen)]);
    const { runId } = await engine.trigger('pay');
    await waitUntil(async () => (await stepOf(engine, runId, 'payment'))?.status === 'waiting', 'the wait');
    const waiting = (await engine.getRun(runId))!;
    expect(waiting.status).toBe('sleeping');
    expect(waiting.steps).toEqual([expect.objectContaining({ key: 'payment', kind: 'signal', status: 'waiting', waitingFor: 'payment' })]);

    const sentAt = Date.now();
    await engine.signal(runId, 'payment', { amount: 42 });
    // The wait has no timeout: only the signal can have woken it, and within 2 s.
    const run = await engine.waitForRun<unknown, { name: string; payload: { amount: number }; sentAt: string }>(runId, { timeout: '2s' });
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ name: 'payment', payload: { amount: 42 }, sentAt: expect.any(Date) });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.sentAt).toBeInstanceOf(Date);
    expect(Math.abs(seen[0]!.sentAt.getTime() - sentAt)).toBeLessThan(1000);
    expect(run.steps).toEqual([expect.objectContaining({ key: 'payment', kind: 'signal', status: 'completed' })]);
  });

  it('delivers a signal sent before the flow reached its wait', async () => {
    const seen: Got[] = [];
    const engine = await env.harness.start([
      {
        id: 'late-wait',
        handler: async (ctx: FlowContext) => {
          await ctx.sleep('first', 300);
          const got = await ctx.waitForSignal<{ amount: number }>('payment', 'payment', { timeout: '10s' });
          seen.push(got);
          return got?.payload;
        },
      },
    ]);
    const { runId } = await engine.trigger('late-wait');
    await waitUntil(async () => (await stepOf(engine, runId, 'first'))?.status === 'sleeping', 'the first sleep');
    await engine.signal(runId, 'payment', { amount: 7 });
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.output).toEqual({ amount: 7 });
    // Taken at the first look: the run never had to wait for it.
    expect(run.executions).toBe(2);
    expect(seen.map((g) => g?.payload)).toEqual([{ amount: 7 }]);
  });

  it('consumes two signals of one name in order, with two waits, and leaves other names alone', async () => {
    const engine = await env.harness.start([
      {
        id: 'two',
        handler: async (ctx: FlowContext) => {
          const a = await ctx.waitForSignal<string>('first', 'item');
          const b = await ctx.waitForSignal<string>('second', 'item');
          return [a?.payload, b?.payload];
        },
      },
    ]);
    const { runId } = await engine.trigger('two', undefined, { delay: 200 });
    await engine.signal(runId, 'other', 'not mine');
    await engine.signal(runId, 'item', 'one');
    await engine.signal(runId, 'item', 'two');
    await engine.signal(runId, 'item', 'three');
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.output).toEqual(['one', 'two']);
    // "three" and "other" were not taken: they are still held (the mailbox counts them against its limit).
    const redis = new Redis(env.redis.url);
    try {
      const prefix = (engine as unknown as { settings: { prefix: string } }).settings.prefix;
      expect(await redis.hget(`${prefix}:mailbox:{${runId}}`, 'n')).toBe('2');
    } finally {
      redis.disconnect();
    }
  });

  it('resolves with null when the timeout passes first, and a late signal is refused once the run finished', async () => {
    const seen: Got[] = [];
    const engine = await env.harness.start([payFlow(seen, 300)]);
    const started = Date.now();
    const { runId } = await engine.trigger('pay');
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(run.status).toBe('completed');
    expect(run.output).toBeNull();
    expect(seen).toEqual([null]);
    expect(run.steps).toEqual([expect.objectContaining({ key: 'payment', kind: 'signal', status: 'completed', result: null })]);
    await expect(engine.signal(runId, 'payment', { amount: 1 })).rejects.toThrow(RunFinishedError);
  });

  it('refuses bad signals with named errors, and stores none of them', async () => {
    const engine = await env.harness.start([payFlow([])], { limits: { maxPayloadBytes: 200, maxSignalsPerRun: 3 } });
    const { runId } = await engine.trigger('pay');
    await expect(engine.signal('nope', 'payment')).rejects.toThrow(RunNotFoundError);
    await expect(engine.signal(runId, '')).rejects.toThrow(InvalidSignalNameError);
    await expect(engine.signal(runId, 'x'.repeat(201))).rejects.toThrow(InvalidSignalNameError);
    await expect(engine.signal(runId, 'big', 'x'.repeat(300))).rejects.toThrow(PayloadTooLargeError);
    for (let i = 0; i < 3; i++) await engine.signal(runId, `keep-${i}`, i);
    await expect(engine.signal(runId, 'keep-3', 3)).rejects.toThrow(SignalMailboxFullError);
    // The one it waits for still fits? No: the limit counts every held signal, and the error says so.
    await expect(engine.signal(runId, 'payment', 1)).rejects.toThrow(/already holds 3 undelivered signals/);
  });

  it('a signal racing the wait timeout, 200 times: exactly one of them wins, and a replay returns what the first execution saw', async () => {
    const firstSeen = new Map<string, Got>();
    const replaySeen = new Map<string, Got>();
    const engine = await env.harness.start(
      [
        {
          id: 'race',
          handler: async (ctx: FlowContext) => {
            const got = await ctx.waitForSignal<{ amount: number }>('payment', 'payment', { timeout: 150 });
            (firstSeen.has(ctx.runId) ? replaySeen : firstSeen).set(ctx.runId, got);
            // Parks once more, so the flow is replayed past the decided wait.
            await ctx.sleep('after', 1);
            return got;
          },
        },
      ],
      { worker: { concurrency: 50 } },
    );
    const runIds: string[] = [];
    const refused = new Set<string>();
    for (let i = 0; i < 200; i++) runIds.push((await engine.trigger('race', undefined, { runId: `race-${i}` })).runId);
    // Each run's signal is sent at its own offset around its timeout (-40 ms .. +40 ms).
    await Promise.all(
      runIds.map(async (runId, i) => {
        const step = await waitUntil(async () => {
          const s = await stepOf(engine, runId, 'payment');
          return s && (s.status === 'waiting' || s.status === 'completed') ? s : undefined;
        }, `run ${runId} to wait`, 30_000);
        if (step.wakeAt) await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(step.wakeAt) - Date.now() + (i % 81) - 40)));
        await engine.signal(runId, 'payment', { amount: i }).catch((err) => {
          // A run that already finished on its timeout refuses the signal: that is the timeout winning.
          if (!(err instanceof RunFinishedError)) throw err;
          refused.add(runId);
        });
      }),
    );
    const redis = new Redis(env.redis.url);
    const prefix = (engine as unknown as { settings: { prefix: string } }).settings.prefix;
    let signalWon = 0;
    let timeoutWon = 0;
    try {
      for (const [i, runId] of runIds.entries()) {
        const run = await engine.waitForRun<unknown, Got>(runId, { timeout: '20s' });
        expect(run.status).toBe('completed');
        const held = Number((await redis.hget(`${prefix}:mailbox:{${runId}}`, 'n')) ?? 0);
        if (run.output) {
          signalWon++;
          expect(run.output.payload).toEqual({ amount: i });
          expect(refused.has(runId)).toBe(false);
          expect(held).toBe(0);
        } else {
          timeoutWon++;
          expect(run.output).toBeNull();
          // The signal lost, and is not lost: refused (the run had ended) or still in the mailbox, never both, never neither.
          expect(held).toBe(refused.has(runId) ? 0 : 1);
        }
        expect(replaySeen.get(runId)).toEqual(firstSeen.get(runId));
        expect(replaySeen.has(runId)).toBe(true);
      }
    } finally {
      redis.disconnect();
    }
    expect(signalWon + timeoutWon).toBe(200);
    // eslint-disable-next-line no-console
    console.log(`signal vs timeout, 200 races: signal won ${signalWon}, timeout won ${timeoutWon} (signal refused as finished: ${refused.size})`);
  }, 120_000);

  it('a signal sent while the run is parking (wait recorded, suspend not yet written), 50 times: never missed', async () => {
    const slowStarted = new Set<string>();
    const engine = await env.harness.start(
      [
        {
          id: 'parking',
          handler: async (ctx: FlowContext) => {
            // The wait parks at once; the run is suspended only once "slow" has ended: the window a signal must not fall into.
            const [got] = await Promise.all([
              ctx.waitForSignal<number>('w', 'go'),
              ctx.task('slow', async () => {
                slowStarted.add(ctx.runId);
                await new Promise((resolve) => setTimeout(resolve, 150));
              }),
            ]);
            return got?.payload;
          },
        },
      ],
      { worker: { concurrency: 50 } },
    );
    const runIds = await Promise.all(Array.from({ length: 50 }, async (_, i) => (await engine.trigger('parking', undefined, { runId: `park-${i}` })).runId));
    let sentWhileRunning = 0;
    await Promise.all(
      runIds.map(async (runId, i) => {
        await waitUntil(async () => slowStarted.has(runId) && (await stepOf(engine, runId, 'w'))?.status === 'waiting', `run ${runId} to wait`);
        if ((await engine.getRun(runId))!.status === 'running') sentWhileRunning++;
        await engine.signal(runId, 'go', i);
      }),
    );
    // The wait has no timeout (its safety re-check is an hour away): only the wake-up after the suspend can finish these in time.
    for (const [i, runId] of runIds.entries()) expect((await engine.waitForRun(runId, { timeout: '5s' })).output).toBe(i);
    expect(sentWhileRunning).toBeGreaterThan(0);
    // eslint-disable-next-line no-console
    console.log(`parking race: ${sentWhileRunning} of 50 signals arrived while the run was still running`);
  });

  it('signals never taken expire with their run: at the finish, and by the sweeper when no finish gave them an expiry', async () => {
    const engine = await env.harness.start(
      [
        { id: 'ignores', handler: async (ctx: FlowContext) => ctx.sleep('nap', 200) },
        { id: 'sleeps', handler: async (ctx: FlowContext) => ctx.sleep('long', '1h') },
      ],
      { retention: '1s' },
    );
    const redis = new Redis(env.redis.url);
    const prefix = (engine as unknown as { settings: { prefix: string } }).settings.prefix;
    try {
      const { runId } = await engine.trigger('ignores');
      await engine.signal(runId, 'unused', 1);
      await engine.waitForRun(runId);
      const mailbox = `${prefix}:mailbox:{${runId}}`;
      await waitUntil(async () => (await redis.pttl(mailbox)) > 0, 'the mailbox to get the run retention');
      await waitUntil(async () => (await redis.exists(mailbox)) === 0, 'the mailbox to expire with its run', 5000);

      // A run record gone without a finish that expired its mailbox (as a cancel script might leave it).
      const orphan = (await engine.trigger('sleeps')).runId;
      await engine.signal(orphan, 'unused', 1);
      await redis.del(`${prefix}:run:{${orphan}}`);
      await waitUntil(async () => (await redis.exists(`${prefix}:mailbox:{${orphan}}`)) === 0, 'the sweeper to drop the orphan mailbox', 10_000);
    } finally {
      redis.disconnect();
    }
  });
});
