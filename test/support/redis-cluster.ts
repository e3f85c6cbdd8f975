import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { EngineHarness } from './engine-harness';
import { waitUntil } from './wait-until';

const exec = promisify(execFile);

/** A private 3-master Redis Cluster on loopback, made for one test file. */
export interface TestRedisCluster {
  nodes: Array<{ host: string; port: number }>;
  client: Cluster;
  stop(): Promise<void>;
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port whose cluster-bus twin (port + 10000) is free as well. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    if (!taken.has(port) && (await isFree(port)) && (await isFree(port + 10000))) return port;
  }
}

export async function startRedisCluster(masters = 3): Promise<TestRedisCluster> {
  const taken = new Set<number>();
  const ports: number[] = [];
  for (let i = 0; i < masters; i++) {
    const port = await clusterPort(taken);
    taken.add(port);
    ports.push(port);
  }
  const dirs: string[] = [];
  const processes: ChildProcess[] = ports.map((port) => {
    const dir = mkdtempSync(join(tmpdir(), 'gotick-cluster-'));
    dirs.push(dir);
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    child.unref();
    return child;
  });
  const stop = async () => {
    await Promise.all(
      processes.map((child) =>
        child.exitCode !== null ? undefined : new Promise<void>((resolve) => (child.once('exit', () => resolve()), child.kill('SIGTERM'))),
      ),
    );
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      await waitUntil(async () => (await exec('redis-cli', ['-p', String(port), 'ping']).catch(() => ({ stdout: '' }))).stdout.includes('PONG'), `node ${port}`);
    }
    await exec('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports) {
      await waitUntil(async () => (await exec('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout.includes('cluster_state:ok'), `cluster state ok on ${port}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = ports.map((port) => ({ host: '127.0.0.1', port }));
  const client = new Cluster(nodes);
  return {
    nodes,
    client,
    async stop() {
      client.disconnect();
      await stop();
    },
  };
}

/**
 * The usual set-up of a Cluster test file: one 3-master cluster for the file,
 * and engines on it (the harness's default connection) closed after each
 * test. Read `cluster` and `harness` inside tests (they are set in beforeAll).
 */
export function useCluster(): { cluster: TestRedisCluster; harness: EngineHarness } {
  const env = {} as { cluster: TestRedisCluster; harness: EngineHarness };
  beforeAll(async () => {
    env.cluster = await startRedisCluster(3);
    env.harness = new EngineHarness({ cluster: env.cluster.nodes });
  }, 60_000);
  afterEach(() => env.harness?.closeAll());
  afterAll(() => env.cluster?.stop());
  return env;
}
