import { WORKER_FLOWS, startWorkerProcess, takeEvents, useWorkerProcesses, type WorkerProcessesEnv } from '../support/child-worker';

const PARENTS = 20;
const ROUNDS = 3;

/** Every child run of the test's prefix, with its parent: what "exactly one child" is counted on (not the parent's own steps). */
async function kidsByParent(env: WorkerProcessesEnv): Promise<Map<string, string[]>> {
  const byParent = new Map<string, string[]>();
  let cursor: string | undefined;
  do {
    const page = await env.trigger.listRuns({ flowId: WORKER_FLOWS.kid, limit: 200, cursor });
    for (const run of page.runs) byParent.set(run.parentRunId!, [...(byParent.get(run.parentRunId!) ?? []), run.runId]);
    cursor = page.nextCursor;
  } while (cursor);
  return byParent;
}

/**
 * A parent's node dies (SIGKILL) between creating its child and recording
 * the step that names it: the replay on another node must find that child,
 * never start a second one.
 */
describe('a parent SIGKILLed right after starting its child', () => {
  const env = useWorkerProcesses('kidcrash');

  it('startChild: the replay finds the child it started, for every parent, round after round', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      // "after" never returns on this node: the kill lands after startChild, before its step is written.
      const first = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: `first-${round}`, concurrency: PARENTS, hangOn: ['after'] });
      const ids = (await Promise.all(Array.from({ length: PARENTS }, (_, i) => env.trigger.trigger(WORKER_FLOWS.startsKid, undefined, { runId: `s${round}-${i}` })))).map((t) => t.runId);
      await takeEvents(env.blocking, env.prefix, (e) => e.key === 'after' && ids.includes(e.runId), PARENTS);
      await first.kill();
      // The window under test: the child exists, the parent's record of it does not.
      for (const id of ids) expect((await env.trigger.getRun(id))!.steps.find((s) => s.key === 'kid')).toBeUndefined();

      const second = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: `second-${round}`, concurrency: PARENTS });
      for (const id of ids) {
        const run = await env.trigger.waitForRun(id, { timeout: '15s' });
        expect(run.status).toBe('completed');
        expect(run.steps.find((s) => s.key === 'kid')!.childRunId).toBe(run.output);
      }
      const kids = await kidsByParent(env);
      for (const id of ids) expect(kids.get(id)).toEqual([(await env.trigger.getRun(id))!.output]);
      expect([...kids.values()].flat()).toHaveLength(PARENTS * (round + 1));
      await second.stop();
    }
  }, 120_000);

  it('child: killed while its children start and run, every parent gets its one child output', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const first = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: `first-${round}`, concurrency: PARENTS });
      const ids = (await Promise.all(Array.from({ length: PARENTS }, (_, i) => env.trigger.trigger(WORKER_FLOWS.awaitsKid, undefined, { runId: `w${round}-${i}` })))).map((t) => t.runId);
      // A different moment each round: after the first, the fifth, the tenth child began its work.
      await takeEvents(env.blocking, env.prefix, (e) => e.key === 'work', [1, 5, 10][round], 20_000);
      await first.kill();

      const second = await startWorkerProcess({ url: env.redis.url, prefix: env.prefix, name: `second-${round}`, concurrency: PARENTS });
      for (const id of ids) {
        const run = await env.trigger.waitForRun(id, { timeout: '15s' });
        expect(run.status).toBe('completed');
        const kidId = run.steps.find((s) => s.key === 'kid')!.childRunId!;
        expect(run.output).toBe(`done:${kidId}`);
      }
      const kids = await kidsByParent(env);
      for (const id of ids) expect(kids.get(id)).toHaveLength(1);
      expect([...kids.values()].flat()).toHaveLength(PARENTS * (round + 1));
      await second.stop();
      // Drain what the kill left on the event list, so the next round counts its own.
      await env.redis.client.del(`events:${env.prefix}`);
    }
  }, 120_000);
});
