import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A private redis-server on a free loopback port, never a developer's 6379. */
export interface TestRedis {
  port: number;
  url: string;
  process: ChildProcess;
  /** A plain client for assertions; closed by stop(). */
  client: Redis;
  stop(): Promise<void>;
  /** Stops the server (SIGTERM: it writes its AOF out), keeping its data directory. */
  shutdown(): Promise<void>;
  /** Starts the server again on the same port and data directory. */
  boot(): Promise<void>;
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once redis-server on `port` answers PING; fails fast if `child` (when given) exits first. */
export async function waitForPing(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} during startup`);
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    // A refused connection is the expected answer until the server is up; connect() reports it, so the event needs no printing.
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') return;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      probe.disconnect();
    }
  }
}

function launch(port: number, dir: string, extraArgs: string[]): ChildProcess {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction', ...extraArgs],
    { stdio: 'ignore' },
  );
  child.unref();
  return child;
}

export async function startRedis(extraArgs: string[] = []): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gotick-redis-'));
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    process: launch(port, dir, extraArgs),
    client: undefined as unknown as Redis,
    async stop() {
      redis.client.disconnect();
      await stopProcess(redis.process);
      rmSync(dir, { recursive: true, force: true });
    },
    async shutdown() {
      await stopProcess(redis.process);
    },
    async boot() {
      redis.process = launch(port, dir, extraArgs);
      await waitForPing(port, 10_000);
    },
    async restart() {
      await redis.shutdown();
      await redis.boot();
    },
  };
  await waitForPing(port, 10_000);
  redis.client = new Redis(port, '127.0.0.1');
  return redis;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
