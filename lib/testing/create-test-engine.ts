import { GoTickEngine } from '../engine/engine';
import type { FlowDefinition } from '../engine/flow-definition';
import type { GoTickEngineOptions } from '../engine/options';
import { GoTickTestHarness } from './harness';
import { MemoryBackend } from './memory-backend';

/** Engine options the testing kit takes: everything but where Redis is. @public */
export type GoTickTestOptions = Omit<GoTickEngineOptions, 'connection' | 'partitions' | 'backend' | 'connectTimeout' | 'commandTimeout'> & {
  /** Where the virtual clock starts. Default: the real time when the engine is made. */
  startAt?: Date | number;
};

/** Splits the kit's options into the backend's and the engine's. */
export function testEngineParts(options: GoTickTestOptions = {}): { backend: MemoryBackend; engineOptions: GoTickEngineOptions } {
  const { startAt, ...engineOptions } = options;
  const backend = new MemoryBackend({ startAt });
  // Without a logger the engine is silent; warnings about untimed steps are noise in unit tests.
  return { backend, engineOptions: { ...engineOptions, backend } };
}

/**
 * An engine on the in-memory backend, started, with `flows` registered, and
 * its harness: no Redis, no Nest, a virtual clock. Close it after the test
 * (`await harness.close()`).
 * @public
 */
export async function createTestEngine(options: GoTickTestOptions & { flows: readonly FlowDefinition[] }): Promise<GoTickTestHarness> {
  const { flows, ...rest } = options;
  const { backend, engineOptions } = testEngineParts(rest);
  const engine = new GoTickEngine(engineOptions);
  for (const flow of flows) engine.register(flow);
  await engine.start();
  return new GoTickTestHarness(engine, backend);
}
