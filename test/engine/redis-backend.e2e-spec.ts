import type { Redis } from 'ioredis';
import { GoTickEngine, type FlowContext } from '../../lib/engine';
import { useEngines } from '../support/engine-harness';
import { waitUntil } from '../support/wait-until';

/** One line of CLIENT LIST as its fields (id, addr, sub, psub, cmd, ...). */
type ClientInfo = Record<string, string>;

describe('the connections the Redis backend opens and closes', () => {
  const env = useEngines();
  const echo = { id: 'conn/echo', handler: async (ctx: FlowContext<number>) => ctx.memo('double', () => ctx.input * 2) };

  /** Every connection to the test's redis-server but the assertion client's own. */
  async function others(): Promise<ClientInfo[]> {
    const own = String(await env.redis.client.client('ID'));
    const list = (await env.redis.client.client('LIST')) as string;
    return list
      .trim()
      .split('\n')
      .map((line) => Object.fromEntries(line.split(' ').map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)])))
      .filter((info) => info.id !== own);
  }
  const subscribed = (infos: ClientInfo[]) => infos.filter((info) => Number(info.sub) > 0 || Number(info.psub) > 0);

  it('a trigger-only node runs on two connections (store and producer), neither subscribed, and close() drops both', async () => {
    const before = await others();
    const engine = await env.harness.start([echo], { worker: false });
    await engine.trigger('conn/echo', 1);
    await engine.getRun((await engine.trigger('conn/echo', 2)).runId);
    const open = await others();
    expect(open.length - before.length).toBe(2);
    expect(subscribed(open)).toHaveLength(0);
    await engine.close();
    await waitUntil(async () => (await others()).length === before.length, 'the trigger-only node to drop its connections', 2000);
  });

  it('a worker node has exactly one subscribed connection (cancel nudges) until a waitForRun, and close() drops every connection, BullMQ\'s too', async () => {
    const before = await others();
    const engine = await env.harness.start([echo]);
    expect(subscribed(await others())).toHaveLength(1);
    const { runId } = await engine.trigger('conn/echo', 21);
    expect((await engine.waitForRun(runId)).output).toBe(42);
    // waitForRun hears run ends on one more subscribed connection of its own.
    expect(subscribed(await others())).toHaveLength(2);
    await engine.close();
    await waitUntil(async () => (await others()).length === before.length, 'the worker node to drop its connections', 2000);
  });

  it('queueConnection() asked before start() is where a trigger writes its run and adds its job, both on that one socket', async () => {
    const before = await others();
    const engine = new GoTickEngine({ connection: env.redis.url, prefix: `qc${process.pid}`, worker: false });
    engine.register(echo);
    const early = engine.queueConnection() as Redis;
    expect(engine.queueConnection()).toBe(early);
    await engine.start();
    const watcher = env.redis.client.duplicate();
    const monitor = await watcher.monitor();
    const seen: Array<{ args: string[]; source: string }> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ args, source }));
    try {
      const { runId } = await engine.trigger('conn/echo', 1);
      const naming = await waitUntil(() => {
        // Commands a script runs show as from 'lua': the calls that reached Redis from a socket are the rest.
        const found = seen.filter((command) => command.source !== 'lua' && command.args.some((arg) => arg.includes(runId)));
        // The run's create script, then BullMQ's add of its job.
        return found.length >= 2 ? found : undefined;
      }, 'the trigger\'s commands to reach MONITOR', 2000);
      expect(new Set(naming.map((command) => command.source))).toEqual(new Set([`127.0.0.1:${early.stream.localPort}`]));
    } finally {
      monitor.disconnect();
      watcher.disconnect();
      await engine.close();
    }
    await waitUntil(async () => (await others()).length === before.length, 'the node and the watcher to drop their connections', 2000);
  });

  it('queueConnection() asked but never started: close() ends it, leaving no connection on Redis', async () => {
    const before = await others();
    const engine = new GoTickEngine({ connection: env.redis.url, prefix: `qc${process.pid}` });
    const early = engine.queueConnection();
    await engine.close();
    await waitUntil(() => early.status === 'end', 'the early producer connection to end', 2000);
    await waitUntil(async () => (await others()).length === before.length, 'no connection left behind', 2000);
  });
});
