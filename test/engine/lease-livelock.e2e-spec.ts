import type { GoTickEngine, RunView } from '../../lib/engine';
import {
  WORKER_FLOWS,
  effectKey,
  eventsKey,
  startTriggerOnlyEngine,
  startWorkerProcess,
  useWorkerProcesses,
  type StepEvent,
  type WorkerProcess,
} from '../support/child-worker';

/**
 * A step that blocks the event loop longer than the lease: its worker cannot
 * renew the lease, so the other node takes the run over and starts the step
 * again, blocking in turn, and so on. Fencing refuses each late result, but
 * before the fix every takeover began the step as "attempt 1" again, so the
 * run never ended (issue 13, item 2: 16 attempts in 40 s, two runs of three
 * never finished). Now every attempt is marked running in Redis before its
 * body starts, a takeover counts a marked attempt whose execution lost the
 * lease as failed, and the step's retries run out.
 *
 * Each run gets a pair of worker processes of its own (5 pairs at once), so
 * a node is only ever blocked by that run's step: lease 1.5 s, retries 2, as
 * in the report. The block lasts 7 s rather than the report's 5 s: BullMQ
 * notices a stalled job one to two stalled checks (1.5 s apart) after its
 * lock lapses, so a 5 s block sometimes ends before the other node has taken
 * the run. The step's result is then kept (nobody took its lease), which is
 * right, but it is not the livelock this test is about.
 */
describe('lease livelock: a step that blocks the event loop longer than the lease', () => {
  const env = useWorkerProcesses('livelock');
  const pairs = 5;

  it('fails after 3 attempts counted across takeovers (LeaseExpiredError each), with one step body per recorded attempt', async () => {
    const triggers: GoTickEngine[] = [];
    const nodes: WorkerProcess[] = [];
    try {
      const setups = await Promise.all(
        Array.from({ length: pairs }, async (_, i) => {
          const prefix = `${env.prefix}p${i}`;
          const trigger = await startTriggerOnlyEngine(env.redis.url, prefix);
          triggers.push(trigger);
          for (const name of [`A${i}`, `B${i}`]) {
            nodes.push(await startWorkerProcess({ url: env.redis.url, prefix, name, concurrency: 1, lease: '1500ms' }));
          }
          return { prefix, trigger };
        }),
      );

      const started = Date.now();
      const outcomes = await Promise.all(
        setups.map(async ({ prefix, trigger }) => {
          const { runId } = await trigger.trigger(WORKER_FLOWS.spin, { blockMs: 7000 });
          // Before the fix the run was still ping-ponging after 40 s; now it ends within its third block.
          const run = await trigger.waitForRun(runId, { timeout: '40s' });
          return { prefix, runId, run, endedAfterMs: Date.now() - started };
        }),
      );

      // A graceful stop waits for the bodies still blocking (the last attempt outlives the run's end): after it, every body has counted itself.
      await Promise.all(nodes.map((node) => node.stop()));

      for (const { prefix, runId, run, endedAfterMs } of outcomes) {
        expect({ runId, status: run.status, error: run.error }).toEqual({
          runId,
          status: 'failed',
          error: {
            name: 'StepFailedError',
            stepKey: 'spin',
            message: expect.stringMatching(/^Step "spin" failed after 3 attempt\(s\): LeaseExpiredError: Step "spin" exceeded the lease 3 time\(s\).*Raise worker\.lease or yield the event loop/),
          },
        });
        // The third takeover ends it, during the third block (each begins while the one before still blocks): about 10-13 s.
        expect(endedAfterMs).toBeLessThan(30_000);

        // Four claims: one per attempt, and the one that found the third cut off and ended the run.
        expect(run.executions).toBe(4);
        const spin = stepOf(run, 'spin');
        expect(spin).toMatchObject({ kind: 'task', status: 'failed', attempts: 3 });
        expect(spin.errors!.map((e) => [e.name, e.attempt, /exceeded the lease (\d) time/.exec(e.message)?.[1]])).toEqual([
          ['LeaseExpiredError', 1, '1'],
          ['LeaseExpiredError', 2, '2'],
          ['LeaseExpiredError', 3, '3'],
        ]);

        // Every body that ran was a recorded attempt: three, numbered 1, 2, 3, each begun by the node that took the run
        // from the other one while that one was blocked.
        expect(await env.redis.client.get(effectKey(prefix, runId, 'spin'))).toBe('3');
        const bodies = (await env.redis.client.lrange(eventsKey(prefix), 0, -1)).map((row) => JSON.parse(row) as StepEvent);
        expect(bodies.map((e) => e.attempt)).toEqual([1, 2, 3]);
        expect(bodies[1].worker).not.toBe(bodies[0].worker);
        expect(bodies[2].worker).not.toBe(bodies[1].worker);
      }
    } finally {
      await Promise.all(triggers.map((trigger) => trigger.close()));
    }
  }, 120_000);
});

function stepOf(run: RunView, key: string) {
  const step = run.steps.find((s) => s.key === key);
  if (!step) throw new Error(`run ${run.runId} has no step "${key}": ${JSON.stringify(run.steps)}`);
  return step;
}
