import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPing } from '../../test/support/redis-server';

/** The bench's own redis-server: never a developer's 6379, always stopped at the end. */
export interface BenchRedis {
  url: string;
  port: number;
  version: string;
  stop(): Promise<void>;
}

const INSTALL_HINT = [
  'redis-server was not found on PATH; the bench starts its own and installs nothing.',
  'Install it, then run `npm run bench` again:',
  '  Debian/Ubuntu: sudo apt-get install redis-server   (or: bash scripts/ensure-apt.sh redis-server)',
  '  macOS:         brew install redis',
].join('\n');

export class RedisMissingError extends Error {
  constructor() {
    super(INSTALL_HINT);
  }
}

function redisVersion(): string {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new RedisMissingError();
  return /v=(\S+)/.exec(probe.stdout)?.[1] ?? probe.stdout.trim();
}


/**
 * Signals and errors are handled in-process (support/cleanup.ts), but a bench
 * killed outright (SIGKILL, OOM) cannot clean up: a detached watchdog stops
 * the server and removes its directory once the bench process is gone.
 */
function watchParent(redisPid: number, dir: string): void {
  const script =
    `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${redisPid} 2>/dev/null; do sleep 1; done; ` +
    `if ! kill -0 ${process.pid} 2>/dev/null; then kill ${redisPid} 2>/dev/null; sleep 2; rm -rf '${dir}'; fi`;
  spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    // SIGTERM lets Redis finish its AOF write; a server stuck past 5 s is killed outright.
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts redis-server with the durability a production deployment would use
 * (AOF, fsync every second), so step costs include it. RDB snapshots are off:
 * a background save forking mid-round on a 2-core box would make rounds incomparable.
 */
export async function startBenchRedis(appendfsync: 'everysec' | 'always' = 'everysec'): Promise<BenchRedis> {
  const version = redisVersion();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gotick-bench-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', appendfsync,
      '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  watchParent(child.pid!, dir);
  const stop = async () => {
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(port, 10_000, child);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, port, version, stop };
}
