import { FlowTimeoutError, GoTickError, InvalidDurationError, StepInHookError, type Duration, type EngineLogger, type FlowDefinition, type FlowFailure } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

/** A logger that keeps what the engine reports, for tests that expect a loud failure. */
function recordingLogger(): EngineLogger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, log: () => undefined, warn: () => undefined, error: (message) => void errors.push(message) };
}

describe('whole-run timeout', () => {
  const env = useEngines();

  it('while running: the task is aborted with FlowTimeoutError, no later step runs, the run fails, OnFlowFail once', async () => {
    const failures: FlowFailure[] = [];
    let reason: unknown;
    let nextRan = false;
    const flow: FlowDefinition = {
      id: 'timeout/running',
      options: { timeout: '300ms' },
      handler: async (ctx) => {
        await ctx.task('slow', (task) => new Promise<void>((resolve) => task.signal.addEventListener('abort', () => {
          reason = task.signal.reason;
          resolve();
        })));
        await ctx.task('next', () => void (nextRan = true));
      },
      hooks: { onFail: [(_ctx, failure) => void failures.push(failure)] },
    };
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('timeout/running', {});
    const run = await engine.waitForRun(runId, { timeout: '5s' });

    expect(run.status).toBe('failed');
    expect(run.error).toEqual({ name: 'FlowTimeoutError', message: `Run "${runId}" did not finish within its timeout of 300 ms.` });
    const took = Date.parse(run.finishedAt!) - Date.parse(run.startedAt!);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
    expect(reason).toBeInstanceOf(FlowTimeoutError);
    expect(nextRan).toBe(false);
    expect(run.steps).toEqual([]);
    await waitUntil(() => failures.length > 0, 'the OnFlowFail hook');
    await engine.close();
    expect(failures).toEqual([{ error: { name: 'FlowTimeoutError', message: run.error!.message } }]);
  });

  it('while sleeping: the run fails at its deadline, well before its wake time, OnFlowFail once', async () => {
    const failures: FlowFailure[] = [];
    let afterRan = false;
    const flow: FlowDefinition = {
      id: 'timeout/sleeping',
      options: { timeout: '2h' },
      handler: async (ctx) => {
        await ctx.task('before', () => undefined);
        await ctx.sleep('nap', '1h');
        await ctx.task('after', () => void (afterRan = true));
      },
      hooks: { onFail: [(_ctx, failure) => void failures.push(failure)] },
    };
    const engine = await env.harness.start([flow]);
    // The trigger's timeout wins over the flow's.
    const { runId } = await engine.trigger('timeout/sleeping', {}, { timeout: '600ms' });
    await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the run to sleep');
    const asleep = (await engine.getRun(runId))!;
    // It is parked until its deadline, not for the hour it asked for.
    expect(Date.parse(asleep.wakeAt!) - Date.parse(asleep.startedAt!)).toBe(600);

    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('failed');
    expect(run.error!.name).toBe('FlowTimeoutError');
    expect(Date.parse(run.finishedAt!) - Date.parse(run.startedAt!)).toBeLessThan(5000);
    expect(run.steps.map((s) => [s.key, s.status])).toEqual([
      ['before', 'completed'],
      ['nap', 'sleeping'],
    ]);
    expect(run.executions).toBe(2);
    expect(afterRan).toBe(false);
    await engine.close();
    expect(failures.map((f) => f.error.name)).toEqual(['FlowTimeoutError']);
  });

  it('while waiting for a signal that never comes: the run fails at its deadline, not at the wait timeout', async () => {
    const failures: FlowFailure[] = [];
    const flow: FlowDefinition = {
      id: 'timeout/signal',
      options: { timeout: '500ms' },
      handler: async (ctx) => ctx.waitForSignal('paid', 'payment', { timeout: '1h' }),
      hooks: { onFail: [(_ctx, failure) => void failures.push(failure)] },
    };
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('timeout/signal', {});
    await waitUntil(async () => (await engine.getRun(runId))?.steps.some((s) => s.status === 'waiting'), 'the run to wait for its signal');
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('failed');
    expect(run.error!.name).toBe('FlowTimeoutError');
    expect(Date.parse(run.finishedAt!) - Date.parse(run.startedAt!)).toBeLessThan(5000);
    await engine.close();
    expect(failures.map((f) => f.error.name)).toEqual(['FlowTimeoutError']);
  });

  it('is measured from the first start, not from the trigger (a delayed run gets its whole timeout)', async () => {
    const flow: FlowDefinition = {
      id: 'timeout/delayed',
      options: { timeout: '500ms' },
      handler: async (ctx) => {
        await ctx.sleep('short', '200ms');
        return 'made it';
      },
    };
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('timeout/delayed', {}, { delay: '700ms' });
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('completed');
    expect(run.output).toBe('made it');
  });

  it('a run that timed out and is retried gets a fresh deadline from its next start', async () => {
    let executions = 0;
    const flow: FlowDefinition = {
      id: 'timeout/retried',
      options: { timeout: '300ms' },
      handler: async (ctx) => {
        executions++;
        await ctx.task('work', (task) =>
          // The first time the work outlasts the deadline; after the retry it is quick.
          executions === 1 ? new Promise<void>((resolve) => task.signal.addEventListener('abort', () => resolve())) : undefined,
        );
        return 'done';
      },
    };
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('timeout/retried', {});
    expect((await engine.waitForRun(runId, { timeout: '5s' })).error!.name).toBe('FlowTimeoutError');
    // Well past the first deadline: a deadline kept from the first start would fail the retried run at once.
    await engine.retry(runId);
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('completed');
    expect(run.output).toBe('done');
    expect(executions).toBe(2);
  });

  it('a step whose retries run out by StepTimeoutError fails the run and calls OnFlowFail once', async () => {
    const failures: FlowFailure[] = [];
    const flow: FlowDefinition = {
      id: 'timeout/step',
      handler: async (ctx) => ctx.task('hangs', () => new Promise(() => undefined), { timeout: 50, retries: 1, backoff: 0 }),
      hooks: { onFail: [(_ctx, failure) => void failures.push(failure)] },
    };
    const engine = await env.harness.start([flow]);
    const { runId } = await engine.trigger('timeout/step', {});
    const run = await engine.waitForRun(runId, { timeout: '5s' });
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ name: 'StepFailedError', stepKey: 'hangs' });
    expect(run.error!.message).toContain('StepTimeoutError');
    await engine.close();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ stepKey: 'hangs', attempt: 2 });
  });

  it('a timeout that is not a positive duration is refused by name at trigger', async () => {
    const flow: FlowDefinition = { id: 'timeout/bad', handler: async () => undefined };
    const engine = await env.harness.start([flow]);
    await expect(engine.trigger('timeout/bad', {}, { timeout: 'soon' as unknown as Duration })).rejects.toThrow(GoTickError);
    await expect(engine.trigger('timeout/bad', {}, { timeout: 0 })).rejects.toThrow(InvalidDurationError);
    await expect(engine.trigger('timeout/bad', {}, { timeout: 0 })).rejects.toThrow(/must be positive/);
  });
});

describe('hooks get a read-only context', () => {
  const env = useEngines();

  it.each([
    ['OnFlowSuccess', 'success'],
    ['OnFlowFail', 'fail'],
    ['OnFlowError', 'error'],
    ['OnFlowCancel', 'cancel'],
  ] as const)('%s: ctx.task fails loudly with the rule, runs nothing, and close() does not hang', async (hookName, kind) => {
    const logger = recordingLogger();
    let sideEffects = 0;
    const seen: unknown[] = [];
    const hook = async (ctx: any) => {
      seen.push({ input: ctx.input, runId: ctx.runId, flowId: ctx.flowId });
      await ctx.task('inside-hook', () => void sideEffects++);
    };
    const flowId = `hooks/${kind}`;
    const flow: FlowDefinition = {
      id: flowId,
      handler: async (ctx) => {
        if (kind === 'cancel') await ctx.sleep('nap', '1h');
        if (kind === 'fail' || kind === 'error') await ctx.task('boom', () => { throw new Error('no'); }, { retries: 0 });
        return 'ok';
      },
      hooks: { onSuccess: kind === 'success' ? [hook] : [], onFail: kind === 'fail' ? [hook] : [], onError: kind === 'error' ? [hook] : [], onCancel: kind === 'cancel' ? [hook] : [] },
    };
    const engine = await env.harness.start([flow], { logger });
    const { runId } = await engine.trigger(flowId, { n: 1 });
    if (kind === 'cancel') {
      await waitUntil(async () => (await engine.getRun(runId))?.status === 'sleeping', 'the run to sleep');
      await engine.cancel(runId);
    }
    await engine.waitForRun(runId, { timeout: '5s' });
    await waitUntil(() => logger.errors.length > 0, 'the hook error to be logged');

    const closing = Date.now();
    await engine.close();
    expect(Date.now() - closing).toBeLessThan(5000);
    expect(sideEffects).toBe(0);
    expect(seen).toEqual([{ input: { n: 1 }, runId, flowId }]);
    expect(logger.errors).toEqual([
      expect.stringContaining(`Step calls are not allowed in hooks (ctx.task in ${hookName} of flow "${flowId}"); do the work in the flow.`),
    ]);
    expect(new StepInHookError('task', hookName, flowId)).toBeInstanceOf(GoTickError);
  });
});
