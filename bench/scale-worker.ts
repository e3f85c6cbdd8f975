import { GoTickEngine } from '../lib/engine';
import { stepsFlow } from './flows/steps-flow';

/**
 * A worker process for the scale-out scenario, driven by its parent over IPC:
 * `start` runs an engine on the given prefix, `stop` closes it (reporting the
 * CPU it used), and losing the parent ends the process, so no worker outlives
 * the bench.
 */
export type WorkerCommand =
  | { type: 'start'; url: string; prefix: string; concurrency: number; steps: number }
  | { type: 'stop' };

export type WorkerReport =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'completed'; count: number }
  | { type: 'stopped'; cpuMs: number }
  | { type: 'error'; message: string };

let engine: GoTickEngine | undefined;
let completed = 0;
let flushing = false;
let cpu = process.cpuUsage();

const send = (report: WorkerReport) => process.send?.(report);

// Completions are reported in small batches: one IPC message per run would cost the worker more than the run.
function reportCompletion(): void {
  completed++;
  if (flushing) return;
  flushing = true;
  setTimeout(() => {
    flushing = false;
    send({ type: 'completed', count: completed });
  }, 5);
}

async function handle(command: WorkerCommand): Promise<void> {
  if (command.type === 'start') {
    completed = 0;
    cpu = process.cpuUsage();
    engine = new GoTickEngine({ connection: command.url, prefix: command.prefix, worker: { concurrency: command.concurrency } });
    engine.register(stepsFlow('bench/ten', command.steps, reportCompletion));
    await engine.start();
    send({ type: 'started' });
  } else {
    await engine?.close();
    engine = undefined;
    const used = process.cpuUsage(cpu);
    send({ type: 'stopped', cpuMs: (used.user + used.system) / 1000 });
  }
}

process.on('message', (command: WorkerCommand) => {
  handle(command).catch((err: Error) => send({ type: 'error', message: err.stack ?? err.message }));
});
process.on('disconnect', () => {
  void (engine?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
send({ type: 'ready' });
