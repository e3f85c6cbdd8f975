import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';
import { makeProject, packLibrary, repoRoot, scratch, sh } from './package-kit';

/** The README's Quick start blocks, each marked `<!-- quick-start:<path> -->` just before its ```ts fence. */
function quickStartFiles(): Record<string, string> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const files: Record<string, string> = {};
  for (const match of readme.matchAll(/<!-- quick-start:(\S+) -->\s*```ts\n([\s\S]*?)```/g)) files[match[1]] = match[2];
  return files;
}

/**
 * The tsconfig `nest new` writes (@nestjs/schematics 12, application templates `ts` and `ts-esm`),
 * with strict on and only node's types (the test runners' types are not installed here).
 */
const nestNewTsconfig = {
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    resolvePackageJsonExports: true,
    esModuleInterop: true,
    isolatedModules: true,
    declaration: true,
    removeComments: true,
    emitDecoratorMetadata: true,
    experimentalDecorators: true,
    allowSyntheticDefaultImports: true,
    target: 'ES2023',
    types: ['node'],
    sourceMap: true,
    outDir: './dist',
    rootDir: '.',
    incremental: true,
    skipLibCheck: true,
    strict: true,
    strictPropertyInitialization: false,
  },
  include: ['src'],
};

const variants = [
  { name: 'Nest 11, CommonJS', nest: '^11', typescript: '~5.9', fields: {} },
  { name: 'Nest 12, ESM', nest: '^12', typescript: '^6', fields: { type: 'module' } },
];

describe('the README Quick start, copied into a fresh Nest project', () => {
  const work = scratch('quick-start');
  let tarball: string;
  let redis: TestRedis;
  const files = quickStartFiles();

  beforeAll(async () => {
    [tarball, redis] = await Promise.all([packLibrary(work.dir), startRedis()]);
  }, 120_000);
  afterAll(async () => {
    await redis?.stop();
    work.remove();
  });

  it('has the four blocks an app needs', () => {
    expect(Object.keys(files).sort()).toEqual(['src/app.module.ts', 'src/main.ts', 'src/order.flows.ts', 'src/orders.controller.ts']);
  });

  it.each(variants)('$name: compiles as written and a run completes on a real Redis', async (variant) => {
    const project = await makeProject(join(work.dir, variant.nest.replace(/\W/g, '')), variant.fields, [
      tarball,
      `@nestjs/common@${variant.nest}`, `@nestjs/core@${variant.nest}`, `@nestjs/platform-express@${variant.nest}`,
      'reflect-metadata@^0.2', 'rxjs@^7', '@types/node@^20', `typescript@${variant.typescript}`,
    ]);
    for (const [path, code] of Object.entries(files)) {
      mkdirSync(dirname(join(project, path)), { recursive: true });
      writeFileSync(join(project, path), code);
    }
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(nestNewTsconfig, null, 2));
    const tsc = join(project, 'node_modules/typescript/bin/tsc');
    await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    // Stricter projects must compile too (the token line used to fail here).
    await sh(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit', '--incremental', 'false', '--exactOptionalPropertyTypes'], project);

    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redis.url, PORT: String(port) };
    delete env.GOTICK_TOKEN; // the example's own fallback token must be enough to start
    const output: string[] = [];
    const app: ChildProcess = spawn(process.execPath, ['dist/src/main.js'], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
    app.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    app.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: 'Bearer dev-token' };
    try {
      await waitUntil(async () => (await fetch(`${base}/gotick/flows`, { headers: auth }).catch(() => null))?.ok, 'the app to listen', 30_000);
      // Each variant its own order: both share one Redis, and a finished run takes no more signals.
      const orderId = `o-${variant.nest.replace(/\W/g, '')}`;
      const created = await fetch(`${base}/orders/${orderId}`, { method: 'POST' });
      expect(created.status).toBe(201);
      const { runId } = (await created.json()) as { runId: string };
      expect(runId).toBe(`order-${orderId}`);
      await waitUntil(async () => {
        const view = (await (await fetch(`${base}/gotick/runs/${runId}`, { headers: auth })).json()) as { steps: Array<{ status: string }> };
        return view.steps.some((step) => step.status === 'waiting');
      }, 'the run to wait for its payment', 20_000);

      const paid = await fetch(`${base}/orders/${orderId}/pay`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: 42 }),
      });
      expect(paid.status).toBe(201);
      const run = (await paid.json()) as { status: string; output?: unknown; steps: Array<{ key: string }> };
      expect(run.status).toBe('completed');
      expect(run.output).toEqual({ status: 'paid', amount: 42 });
      expect(run.steps.map((step) => step.key)).toEqual(['payment', 'mark-paid']);
      expect(output.join('')).toContain(`order ${orderId} paid 42`);

      // enableShutdownHooks in the example: SIGTERM closes the app.
      app.kill('SIGTERM');
      await waitUntil(() => app.exitCode !== null || app.signalCode !== null, 'the app to exit on SIGTERM', 15_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- app output ---\n${output.join('')}`);
    } finally {
      if (app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
    }
  }, 300_000);
});
