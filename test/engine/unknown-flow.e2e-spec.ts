import type { EngineLogger, FlowContext, FlowDefinition } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

/** Every line an engine logs, by level. */
function captureLogs(): EngineLogger & { lines: Array<{ level: string; message: string }>; count(level: string, pattern: RegExp): number } {
  const lines: Array<{ level: string; message: string }> = [];
  return {
    lines,
    debug: (message) => void lines.push({ level: 'debug', message }),
    log: (message) => void lines.push({ level: 'log', message }),
    warn: (message) => void lines.push({ level: 'warn', message }),
    error: (message) => void lines.push({ level: 'error', message }),
    count: (level, pattern) => lines.filter((line) => line.level === level && pattern.test(line.message)).length,
  };
}

describe('a run whose flow no node has (renamed or removed in a deploy)', () => {
  const env = useEngines();
  const renamed: FlowDefinition = { id: 'orders/close', handler: async (ctx: FlowContext) => ctx.memo('m', () => 'closed') };
  const other: FlowDefinition = { id: 'orders/open', handler: () => 'open' };
  const NOT_HERE = /which this node does not have/;

  it('is handed back without counting executions, warned once, and fails with UnknownFlowError after the grace; retry runs it once the flow is back', async () => {
    const prefix = `uf${process.pid}a`;
    // The trigger-only node still knows the flow; the only worker no longer does.
    const trigger = await env.harness.start([renamed], { prefix, worker: false });
    const logs = captureLogs();
    const oldWorker = await env.harness.start([other], { prefix, logger: logs, logLevel: 'debug', unknownFlowGrace: '6s' });
    const { runId } = await trigger.trigger('orders/close');

    // First hand-back: back in the queue, the claim uncounted, one warning.
    await waitUntil(() => logs.count('warn', NOT_HERE) === 1, 'the first hand-back');
    const queued = (await trigger.getRun(runId))!;
    expect(queued).toMatchObject({ status: 'queued', executions: 0 });
    expect(queued.startedAt).toBeUndefined();

    // ~5 s later a second hand-back (debug only), ~5 s after that the grace (6 s) is past: failed.
    const failed = await trigger.waitForRun(runId, { timeout: '20s' });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ name: 'UnknownFlowError' });
    expect(failed.error!.message).toContain('"orders/close"');
    expect(failed.error!.message).toContain('retry the run');
    expect(logs.count('debug', NOT_HERE)).toBe(1);
    expect(logs.count('warn', NOT_HERE)).toBe(1);
    expect(logs.count('warn', /failed: UnknownFlowError/)).toBe(1);
    // Two hand-backs uncounted; only the claim that failed it counts.
    expect(failed.executions).toBe(1);

    // The flow is back (the old node gone): retry runs it.
    await oldWorker.close();
    await env.harness.start([renamed], { prefix });
    await trigger.retry(runId);
    const done = await trigger.waitForRun(runId, { timeout: '10s' });
    expect(done).toMatchObject({ status: 'completed', output: 'closed', retries: 1, executions: 2 });
    expect(done.previousErrors).toEqual([expect.objectContaining({ name: 'UnknownFlowError' })]);
  }, 40_000);

  it('runs on a node that has the flow when one comes up within the grace, with the hand-back uncounted', async () => {
    const prefix = `uf${process.pid}b`;
    const trigger = await env.harness.start([renamed], { prefix, worker: false });
    const logs = captureLogs();
    const oldWorker = await env.harness.start([other], { prefix, logger: logs });
    const { runId } = await trigger.trigger('orders/close');
    await waitUntil(() => logs.count('warn', NOT_HERE) === 1, 'the first hand-back');
    await oldWorker.close();
    await env.harness.start([renamed], { prefix });
    const done = await trigger.waitForRun(runId, { timeout: '15s' });
    expect(done).toMatchObject({ status: 'completed', output: 'closed', executions: 1 });
  }, 30_000);

  it('a run past its whole-run deadline ends failed with FlowTimeoutError even on a node without its flow', async () => {
    const prefix = `uf${process.pid}c`;
    const sleepy: FlowDefinition = { id: 'orders/close', handler: async (ctx: FlowContext) => ctx.sleep('nap', '30s'), options: { timeout: '1s' } };
    const trigger = await env.harness.start([sleepy], { prefix, worker: false });
    const first = await env.harness.start([sleepy], { prefix });
    const { runId } = await trigger.trigger('orders/close');
    await waitUntil(async () => (await trigger.getRun(runId))?.status === 'sleeping', 'the run asleep');
    await first.close();
    const logs = captureLogs();
    await env.harness.start([other], { prefix, logger: logs });
    const run = await trigger.waitForRun(runId, { timeout: '15s' });
    expect(run).toMatchObject({ status: 'failed', error: { name: 'FlowTimeoutError' } });
    expect(logs.count('warn', /hooks did not run/)).toBe(1);
    expect(logs.count('warn', NOT_HERE)).toBe(0);
  }, 30_000);

  it('refuses a bad unknownFlowGrace or logLevel by name', async () => {
    await expect(env.harness.start([other], { unknownFlowGrace: 'soon' as never })).rejects.toMatchObject({ name: 'GoTickConfigError', message: expect.stringContaining('unknownFlowGrace') });
    await expect(env.harness.start([other], { logLevel: 'verbose' as never })).rejects.toMatchObject({ name: 'GoTickConfigError', message: expect.stringContaining('logLevel') });
  });
});

describe('runs of a missing flow, many at once over two nodes', () => {
  const env = useEngines();
  const flow: FlowDefinition = { id: 'batch/run', handler: (ctx: FlowContext<number>) => ctx.input * 2 };
  const stranger: FlowDefinition = { id: 'batch/other', handler: () => null };

  it('200 runs: each warned exactly once over every hand-back on both nodes, none counted, all run once the flow is back', async () => {
    const prefix = `uf${process.pid}m`;
    const trigger = await env.harness.start([flow], { prefix, worker: false });
    const logs = captureLogs();
    const nodes = [
      await env.harness.start([stranger], { prefix, logger: logs, logLevel: 'debug', worker: { concurrency: 20 } }),
      await env.harness.start([stranger], { prefix, logger: logs, logLevel: 'debug', worker: { concurrency: 20 } }),
    ];
    const runIds = await Promise.all(Array.from({ length: 200 }, async (_, i) => (await trigger.trigger('batch/run', i)).runId));
    const notHere = /which this node does not have/;
    // As many later hand-backs (debug) as runs: the warnings had every chance to repeat.
    await waitUntil(() => logs.count('debug', notHere) >= 200, 'a second round of hand-backs', 30_000);
    const warned = logs.lines.filter((line) => line.level === 'warn' && notHere.test(line.message));
    expect(warned).toHaveLength(200);
    expect(new Set(warned.map((line) => /Run "([^"]+)"/.exec(line.message)![1]))).toEqual(new Set(runIds));
    await Promise.all(nodes.map((node) => node.close()));
    await env.harness.start([flow], { prefix, worker: { concurrency: 50 } });
    const done = await Promise.all(runIds.map((runId) => trigger.waitForRun(runId, { timeout: '30s' })));
    expect(done.filter((run) => run.status !== 'completed')).toEqual([]);
    expect(done.map((run) => run.executions)).toEqual(runIds.map(() => 1));
    expect(done.map((run) => run.output)).toEqual(runIds.map((_, i) => i * 2));
  }, 90_000);
});
