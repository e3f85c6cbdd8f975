import { createTestEngine } from '../../lib/testing';

// The README's example without Nest, as written there.
it('README: createTestEngine passes a 30-day sleep', async () => {
  const gotick = await createTestEngine({
    flows: [{ id: 'reminder', handler: async (ctx) => { await ctx.sleep('wait', '30d'); return 'sent'; } }],
  });
  const { runId } = await gotick.trigger('reminder');
  await gotick.advance('30d');
  expect((await gotick.getRun(runId))!.output).toBe('sent');
  await gotick.close();
});
