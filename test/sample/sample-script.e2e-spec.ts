import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { freePort } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';

/** True when something accepts TCP connections on the loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => child.once('exit', (code) => done(code)));
}

// `npm run sample` as a user runs it, then stopped by its PID (a supervisor, `kill <pid>`, a CI step's timeout).
describe('npm run sample, stopped by its PID', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the app and its redis-server and frees both ports', async (signal) => {
    const appPort = await freePort();
    const redisPort = await freePort();
    const output: string[] = [];
    const npm = spawn('npm', ['run', '--silent', 'sample'], {
      cwd: resolve(__dirname, '../..'),
      env: { ...process.env, PORT: String(appPort), SAMPLE_REDIS_PORT: String(redisPort), GOTICK_TOKEN: 'script-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    npm.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    npm.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    try {
      await waitUntil(async () => (await fetch(`http://127.0.0.1:${appPort}/orders/none`).catch(() => null))?.status, 'the sample to answer', 60_000);
      expect(await listening(redisPort)).toBe(true);

      npm.kill(signal);
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited(npm), new Promise((r) => { timer = setTimeout(() => r('still running'), 30_000); })]);
      clearTimeout(timer);
      expect(code).not.toBe('still running');

      // The app closes before its Redis; both must be gone once npm has exited.
      expect(await listening(appPort)).toBe(false);
      expect(await listening(redisPort)).toBe(false);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- sample output ---\n${output.join('')}`);
    } finally {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    }
  }, 120_000);
});
