import { GoTickEngine, type FlowDefinition, type GoTickEngineOptions } from '../../lib/engine';

let counter = 0;

/** An engine on its own prefix, with short backoffs, that the harness closes after each test. */
export class EngineHarness {
  private readonly engines: GoTickEngine[] = [];

  constructor(private readonly url: string) {}

  async start(flows: FlowDefinition[], options: GoTickEngineOptions = {}): Promise<GoTickEngine> {
    const engine = new GoTickEngine({
      connection: this.url,
      prefix: options.prefix ?? `t${process.pid}x${++counter}`,
      defaults: { retries: 3, backoff: 20 },
      ...options,
    });
    for (const flow of flows) engine.register(flow);
    await engine.start();
    this.engines.push(engine);
    return engine;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.engines.splice(0).map((engine) => engine.close()));
  }
}
