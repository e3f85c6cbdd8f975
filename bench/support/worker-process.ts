import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { WorkerCommand, WorkerReport } from '../scale-worker';
import { onCleanup } from './cleanup';

/** The parent's handle on one scale-out worker process (bench/scale-worker.ts). */
export class WorkerProcess {
  completed = 0;
  private readonly child: ChildProcess;
  private readonly forget: () => void;
  private waiting?: { type: WorkerReport['type']; resolve: (report: WorkerReport) => void; reject: (err: Error) => void };

  private constructor() {
    const root = join(__dirname, '..', '..');
    // Spawned as the brief says (`node -r @swc-node/register bench/scale-worker.ts`), with an IPC channel for commands.
    this.child = spawn(process.execPath, ['-r', '@swc-node/register', join('bench', 'scale-worker.ts')], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.forget = onCleanup(() => this.kill());
    this.child.on('message', (report: WorkerReport) => this.receive(report));
    this.child.on('exit', (code, signal) => {
      this.waiting?.reject(new Error(`scale-out worker ${this.child.pid} exited (code ${code}, signal ${signal})`));
      this.waiting = undefined;
    });
  }

  static async spawn(): Promise<WorkerProcess> {
    const worker = new WorkerProcess();
    await worker.expect('ready', 60_000);
    return worker;
  }

  private receive(report: WorkerReport): void {
    if (report.type === 'completed') this.completed = report.count;
    if (report.type === 'error') {
      this.waiting?.reject(new Error(`scale-out worker ${this.child.pid}: ${report.message}`));
      this.waiting = undefined;
      return;
    }
    if (this.waiting?.type === report.type) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve(report);
    }
  }

  private expect(type: WorkerReport['type'], timeoutMs: number): Promise<WorkerReport> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`scale-out worker ${this.child.pid}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      this.waiting = {
        type,
        resolve: (report) => {
          clearTimeout(timer);
          resolve(report);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  async start(command: Omit<Extract<WorkerCommand, { type: 'start' }>, 'type'>): Promise<void> {
    this.completed = 0;
    const started = this.expect('started', 30_000);
    this.child.send({ type: 'start', ...command } satisfies WorkerCommand);
    await started;
  }

  /** Closes the worker's engine; resolves with the CPU time it used since start. */
  async stop(): Promise<number> {
    const stopped = this.expect('stopped', 60_000);
    this.child.send({ type: 'stop' } satisfies WorkerCommand);
    return ((await stopped) as Extract<WorkerReport, { type: 'stopped' }>).cpuMs;
  }

  /** Ends the process: disconnecting makes it close its engine and exit; SIGKILL if it lingers. */
  async kill(): Promise<void> {
    this.forget();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      this.child.once('exit', () => {
        clearTimeout(force);
        resolve();
      });
      if (this.child.connected) this.child.disconnect();
      else this.child.kill('SIGTERM');
    });
  }
}
