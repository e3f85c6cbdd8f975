import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  /** SIGKILL: the server dies at once (no AOF rewrite), its clients see their sockets reset. */
  kill(): Promise<void>;
  /**
   * SIGSTOP: the server keeps its sockets open but answers nothing, as a
   * Redis stuck in a long fork, swap or VM pause. Resolved once the kernel shows it stopped.
   */
  freeze(): Promise<void>;
  /** SIGCONT: the server carries on with everything it was sent meanwhile. */
  thaw(): Promise<void>;
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
    // disconnectTimeout: ioredis arms a 2 s timer when disconnecting a socket that already failed, which held jest open.
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, disconnectTimeout: 10 });
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
      // A stopped process keeps SIGTERM pending until it runs again.
      if (frozen) await redis.thaw();
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
    async kill() {
      const child = redis.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      frozen = false;
    },
    async freeze() {
      redis.process.kill('SIGSTOP');
      frozen = true;
      await waitForState(redis.process.pid!, true);
    },
    async thaw() {
      if (!frozen) return;
      redis.process.kill('SIGCONT');
      frozen = false;
      await waitForState(redis.process.pid!, false);
    },
  };
  let frozen = false;
  await waitForPing(port, 10_000);
  redis.client = new Redis(port, '127.0.0.1');
  // A test that takes the server down would otherwise get "[ioredis] Unhandled error event" from this client.
  redis.client.on('error', () => undefined);
  return redis;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Waits until the kernel shows `pid` stopped (state T) or running again: signals are delivered asynchronously. */
async function waitForState(pid: number, stopped: boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2).toUpperCase();
    if ((state === 'T') === stopped) return;
    if (Date.now() > deadline) throw new Error(`redis-server ${pid} did not ${stopped ? 'stop' : 'continue'} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
