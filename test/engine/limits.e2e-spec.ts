import type { FlowContext } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';

describe('odd and oversized input', () => {
  const env = useEngines();

  it('runs a flow of 10,000 steps and replays it after a sleep', async () => {
    let ran = 0;
    const engine = await env.harness.start([
      {
        id: 'long',
        handler: async (ctx: FlowContext) => {
          let sum = 0;
          for (let i = 0; i < 10_000; i++) sum += await ctx.memo(`step-${i}`, () => (ran++, i));
          await ctx.sleep('pause', 10);
          return sum;
        },
      },
    ]);
    const run = await engine.waitForRun((await engine.trigger('long')).runId, { timeout: '60s' });
    expect(run.output).toBe((9_999 * 10_000) / 2);
    expect(ran).toBe(10_000);
    expect(run.executions).toBe(2);
    expect(run.steps).toHaveLength(10_001);
  });

  it('accepts step keys with odd characters and refuses absurdly long ones, naming the flow', async () => {
    const odd = ['ключ', 'a:b{c}d', 'spaces and\ttabs', '"quoted"', '🙂', '*?[]'];
    const engine = await env.harness.start([
      {
        id: 'odd-keys',
        handler: async (ctx: FlowContext) => {
          const values = [];
          for (const key of odd) values.push(await ctx.memo(key, () => key.length));
          return values;
        },
      },
      { id: 'long-key', handler: async (ctx: FlowContext) => ctx.memo('k'.repeat(100_000), () => 1) },
    ]);
    const fine = await engine.waitForRun((await engine.trigger('odd-keys')).runId);
    expect(fine.steps.map((s) => s.key)).toEqual(odd);
    const refused = await engine.waitForRun((await engine.trigger('long-key')).runId);
    expect(refused.status).toBe('failed');
    expect(refused.error!.message).toContain('a 100000-character string in flow "long-key"');
  });

  it('refuses flow ids with whitespace, braces or huge length at registration', async () => {
    for (const id of ['has space', 'a{b}', 'x'.repeat(201), '']) {
      await expect(env.harness.start([{ id, handler: async () => 1 }])).rejects.toThrow('Invalid flow id');
    }
  });

  it('fails the run, naming the step, when a step result is over the payload limit', async () => {
    const engine = await env.harness.start(
      [{ id: 'big-result', handler: async (ctx: FlowContext) => ctx.memo('blob', () => 'z'.repeat(10_000)) }],
      { limits: { maxPayloadBytes: 4096 } },
    );
    const run = await engine.waitForRun((await engine.trigger('big-result')).runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ name: 'PayloadTooLargeError' });
    expect(run.error!.message).toContain('Result of step "blob"');
    await expect(engine.trigger('big-result', 'q'.repeat(5000))).rejects.toThrow('over the limit of 4096 bytes');
  });
});
