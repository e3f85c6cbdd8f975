import { RunKeys } from '../../lib/engine/redis/keys';
import {
  EventLog,
  WORKER_FLOWS,
  gateKey,
  hooksKey,
  startWorkerProcess,
  useWorkerProcesses,
} from '../support/child-worker';
import { waitUntil } from '../support/wait-until';

/**
 * A worker that is not dead but stops running for longer than its lease (a
 * stop-the-world pause, a frozen VM, SIGSTOP) comes back believing it still
 * owns the run. By then another worker has taken the run over and finished
 * it. Whatever the paused worker does next must be refused by the store: its
 * late step result must not replace the new owner's, and it must neither
 * finish the run again nor run any further step.
 *
 * The pause is real: worker A is a separate process frozen with SIGSTOP in the
 * middle of step "held" (its side effect done, its result not yet returned),
 * and thawed with SIGCONT only after worker B has completed the run.
 */
describe('fencing: a worker frozen past its lease comes back to a run another worker finished', () => {
  const env = useWorkerProcesses('fence');

  it('SIGSTOP inside a step, takeover by B, SIGCONT: A changes nothing, the run completed once with B\'s results', async () => {
    const log = new EventLog(env.blocking, env.prefix);
    const keys = new RunKeys(env.prefix);

    // A's "held" step does its side effect, then waits for a gate that opens only while A is frozen.
    const a = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'A', concurrency: 1, lease: '1s', gatedOn: ['held'] });
    const { runId } = await env.trigger.trigger(WORKER_FLOWS.handover);
    const [heldOnA] = await log.waitFor((e) => e.type === 'step-started' && e.key === 'held');
    expect(heldOnA).toMatchObject({ runId, worker: 'A', attempt: 1 });

    // A's heartbeat (every third of its 1 s lease) writes the marker of the step in flight; frozen after that.
    const marked = await waitUntil(async () => {
      const view = await env.trigger.getRun(runId);
      return view?.steps.some((s) => s.key === 'held' && s.status === 'running') ? view : null;
    }, 'A\'s heartbeat to mark "held" running', 5000);
    await a.freeze();
    // Opened now, A cannot see it until it is thawed; then its step returns at once, with A's name.
    await env.redis.client.set(gateKey(env.prefix, 'held'), '1');
    expect(marked.status).toBe('running');
    expect(marked.executions).toBe(1);
    // "held" is in flight on A.
    expect(marked.steps.map((s) => [s.key, s.status, s.attempts, s.result])).toEqual([
      ['first', 'completed', 1, 'A'],
      ['held', 'running', 1, undefined],
    ]);

    // B is started only now, so the run can reach it only by A's lease running out.
    await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'B', concurrency: 1, lease: '1s' });
    const done = await env.trigger.waitForRun(runId, { timeout: '20s' });
    expect(done.status).toBe('completed');
    expect(done.output).toEqual({ first: 'A', held: 'B', after: 'B' });
    await log.waitFor((e) => e.type === 'run-succeeded');
    const finished = await env.redis.client.hgetall(keys.run(runId));
    expect(finished.status).toBe('completed');

    // A runs again, still inside "held", and its body returns A's result to an execution whose lease is long gone.
    await a.thaw();
    const [late] = await log.waitFor((e) => e.type === 'step-returning' && e.worker === 'A');
    expect(late).toMatchObject({ runId, key: 'held', value: 'A' });
    // A graceful stop waits for A's execution to end, late write attempt included: after it, A can write nothing more.
    await a.stop();
    expect(await a.exited).toEqual({ code: 0, signal: null });

    // Not one field of the run changed after B finished it: no step result, status, output, timestamp or counter.
    expect(await env.redis.client.hgetall(keys.run(runId))).toEqual(finished);
    const run = (await env.trigger.getRun(runId))!;
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ first: 'A', held: 'B', after: 'B' });
    expect(run.steps.map((s) => [s.key, s.status, s.attempts, s.result])).toEqual([
      ['first', 'completed', 1, 'A'],
      // B's replay found A's attempt marked running under a lapsed lease: counted as failed, B's second attempt is stored.
      ['held', 'completed', 2, 'B'],
      ['after', 'completed', 1, 'B'],
    ]);
    expect(run.steps[1].errors?.map((e) => [e.name, e.attempt])).toEqual([['LeaseExpiredError', 1]]);
    // A's claim and B's claim; A's comeback claimed nothing.
    expect(run.executions).toBe(2);

    // Completed once, by B: one success hook call, from B only.
    expect(Number(await env.redis.client.get(hooksKey(env.prefix, runId)))).toBe(1);
    const events = await log.drain();
    expect(events.filter((e) => e.type === 'run-succeeded').map((e) => e.worker)).toEqual(['B']);
    // "held" ran on both (at-least-once); nothing past it ever ran on A.
    expect(await env.effects(runId, ['first', 'held', 'after'])).toEqual({ first: 1, held: 2, after: 1 });
    expect(events.filter((e) => e.type === 'step-started').map((e) => [e.key, e.worker])).toEqual([
      ['first', 'A'],
      ['held', 'A'],
      ['held', 'B'],
      ['after', 'B'],
    ]);
    expect(events.filter((e) => e.type === 'step-returning').map((e) => e.worker)).toEqual(['B', 'A']);
  });
});
