import {
  WORKER_FLOWS,
  startWorkerProcess,
  takeEvents,
  useWorkerProcesses,
} from '../support/child-worker';
import { waitUntil } from '../support/wait-until';

/**
 * A worker host dies without warning (OOM killer, pulled plug): the process
 * is SIGKILLed, so nothing of it runs again — no finally block, no shutdown
 * hook, no lease handed back. Another node must finish its runs, repeating
 * only the step that was in flight (at-least-once), never a finished one.
 */
describe('a worker process killed with SIGKILL', () => {
  const env = useWorkerProcesses('crash');

  it('mid-task: a second process finishes every run, and only the task in flight runs again', async () => {
    const first = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'first', concurrency: 3, hangOn: ['charge'] });
    const runIds = await Promise.all([1, 2, 3].map(async () => (await env.trigger.trigger(WORKER_FLOWS.checkout)).runId));

    // Every run is inside "charge" on the first process when it dies.
    const started = await takeEvents(env.blocking, env.prefix, (e) => e.key === 'charge', runIds.length);
    expect(started.map((e) => e.worker)).toEqual(['first', 'first', 'first']);
    expect(new Set(started.map((e) => e.runId))).toEqual(new Set(runIds));
    await first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');
    for (const runId of runIds) expect((await env.trigger.getRun(runId))!.status).toBe('running');

    await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'second', concurrency: 3 });
    for (const runId of runIds) {
      const run = await env.trigger.waitForRun(runId, { timeout: '20s' });
      expect(run.status).toBe('completed');
      expect(run.output).toEqual({ reservation: `reservation-of-${runId}` });
      expect(run.steps.map((s) => [s.key, s.status])).toEqual([
        ['reserve', 'completed'],
        ['charge', 'completed'],
        ['ship', 'completed'],
      ]);
      expect(run.executions).toBe(2);
      // Steps before the kill: once. The step the kill interrupted: twice. Steps after it: once.
      expect(await env.effects(runId, ['reserve', 'charge', 'ship'])).toEqual({ reserve: 1, charge: 2, ship: 1 });
    }
    // The repeat of "charge" is the second process's doing, with a fresh attempt count from its own replay.
    const retaken = await takeEvents(env.blocking, env.prefix, (e) => e.key === 'charge', runIds.length);
    expect(retaken.map((e) => e.worker)).toEqual(['second', 'second', 'second']);
  });

  it('while a run sleeps: a process started after the kill wakes it, and no finished step runs again', async () => {
    const first = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'first', concurrency: 2 });
    // Long enough that the kill lands well inside the sleep, short enough to keep the test quick.
    const { runId } = await env.trigger.trigger(WORKER_FLOWS.nap, { napMs: 2000 });

    await waitUntil(async () => (await env.trigger.getRun(runId))?.status === 'sleeping', 'the run to go to sleep');
    await first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');
    const asleep = (await env.trigger.getRun(runId))!;
    expect(asleep.status).toBe('sleeping');
    expect(asleep.steps.find((s) => s.key === 'nap')?.status).toBe('sleeping');
    expect(await env.effects(runId, ['before', 'after'])).toEqual({ before: 1, after: 0 });

    await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'second', concurrency: 2 });
    const run = await env.trigger.waitForRun(runId, { timeout: '20s' });
    expect(run.status).toBe('completed');
    expect(run.output).toBe('rested');
    expect(run.steps.map((s) => [s.key, s.status])).toEqual([
      ['before', 'completed'],
      ['nap', 'completed'],
      ['after', 'completed'],
    ]);
    expect(await env.effects(runId, ['before', 'after'])).toEqual({ before: 1, after: 1 });
    const events = await takeEvents(env.blocking, env.prefix, () => true, 2);
    expect(events.map((e) => [e.key, e.worker])).toEqual([
      ['before', 'first'],
      ['after', 'second'],
    ]);
  });
});
