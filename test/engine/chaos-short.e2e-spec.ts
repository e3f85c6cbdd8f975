import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..');

/**
 * The short chaos soak (test/chaos/run.ts --short) as part of `npm test`:
 * worker processes SIGKILLed and restarted under a stream of runs, with its
 * own redis-server. The soak checks itself and says so in its exit code; this
 * test runs it as a child process, as `npm run chaos -- --short` would.
 */
describe('chaos soak, short version', () => {
  let soak: ChildProcess | undefined;

  afterEach(async () => {
    // A soak still running (this test failed or timed out) is told to stop: it then stops its workers and redis-server.
    if (soak && soak.exitCode === null && soak.signalCode === null) {
      const exited = new Promise((resolve) => soak!.once('exit', resolve));
      soak.kill('SIGTERM');
      const timer = setTimeout(() => soak!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  });

  it('every run completes, none is lost, and only steps cut short by a kill are repeated', async () => {
    soak = spawn(process.execPath, ['-r', '@swc-node/register', join('test', 'chaos', 'run.ts'), '--short'], {
      cwd: REPO_ROOT,
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    soak.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    soak.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      soak!.once('exit', (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
    });

    // The whole report on failure: the summary and the violations it lists are the diagnosis.
    expect({ code, signal, stdout, stderr: stderr.trim() ? stderr : '' }).toMatchObject({ code: 0, signal: null });
    expect(stdout).toMatch(/^RESULT: PASS$/m);
    expect(stdout).toMatch(/^ {2}lost runs: +0$/m);
    const runs = /^ {2}runs: +(\d+) \(completed (\d+), failed (\d+)\)$/m.exec(stdout);
    expect(runs && { runs: runs[1], completed: runs[2], failed: runs[3] }).toEqual({ runs: '200', completed: '200', failed: '0' });
    // A soak without a single kill would prove nothing.
    expect(Number(/^ {2}kills: +(\d+)/m.exec(stdout)?.[1])).toBeGreaterThan(0);
  }, 60_000);
});
