import { WORKER_FLOWS, startWorkerProcess, takeEvents, useWorkerProcesses } from '../support/child-worker';
import { waitUntil } from '../support/wait-until';

/**
 * A run waits for a signal holding no worker; the node that parked it dies.
 * The signal must still wake the run, on whichever node is alive.
 */
describe('a worker process SIGKILLed while a run waits for a signal', () => {
  const env = useWorkerProcesses('sigcrash');

  it('the signal wakes the run on the other node, and no finished step runs again', async () => {
    const first = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'first', concurrency: 2 });
    const { runId } = await env.trigger.trigger(WORKER_FLOWS.payment, undefined, { runId: 'pay-1' });
    await waitUntil(async () => (await env.trigger.getRun(runId))?.steps.find((s) => s.key === 'paid')?.status === 'waiting', 'the wait');
    await first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');
    expect((await env.trigger.getRun(runId))!.status).toBe('sleeping');

    await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: 'second', concurrency: 2 });
    await env.trigger.signal(runId, 'payment', { amount: 99 });
    // The wait has no timeout: only the signal can wake the run, and it does so at once (no lease to wait out).
    const run = await env.trigger.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ amount: 99 });
    expect(run.steps.map((s) => [s.key, s.status])).toEqual([
      ['before', 'completed'],
      ['paid', 'completed'],
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
