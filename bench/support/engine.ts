import { GoTickEngine, type FlowDefinition, type GoTickEngineOptions, type RedisConnection } from '../../lib/engine';
import { onCleanup } from './cleanup';

/** A GoTickEngine on its own prefix, closed by the bench's cleanup if the scenario throws. */
export async function startEngine(
  url: RedisConnection,
  prefix: string,
  flows: FlowDefinition[],
  options: Omit<GoTickEngineOptions, 'connection' | 'prefix'> = {},
): Promise<GoTickEngine> {
  const engine = new GoTickEngine({ connection: url, prefix, ...options });
  for (const flow of flows) engine.register(flow);
  const forget = onCleanup(() => engine.close());
  try {
    await engine.start();
  } catch (err) {
    forget();
    throw err;
  }
  const close = engine.close.bind(engine);
  engine.close = async () => {
    forget();
    await close();
  };
  return engine;
}
