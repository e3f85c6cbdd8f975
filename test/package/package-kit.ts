import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The repository root (where package.json is). */
export const repoRoot = resolve(__dirname, '../..');
/** The repository's own TypeScript compiler: temp projects are type-checked with it, not with a download. */
export const tscPath = join(repoRoot, 'node_modules/typescript/bin/tsc');

/** Runs a command; on failure the error carries its output, so a failed install or compile explains itself. */
export async function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout, stderr } = await exec(command, args, {
      cwd,
      env: { ...process.env, npm_config_loglevel: 'error', npm_config_audit: 'false', npm_config_fund: 'false', ...env },
      maxBuffer: 1 << 26,
    });
    return stdout + stderr;
  } catch (err) {
    const failure = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${failure.stdout ?? ''}${failure.stderr ?? failure.message}`);
  }
}

/** A scratch directory under the OS temp dir, removed by the returned function. */
export function scratch(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `gotick-${name}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Builds the library as `npm run build` does, but into a staging copy, and packs it with `npm pack`:
 * the tarball a user would install. The repository's own dist/ is left alone, so specs can run in parallel.
 */
export async function packLibrary(workDir: string): Promise<string> {
  const stage = join(workDir, 'stage');
  mkdirSync(stage, { recursive: true });
  await sh(process.execPath, [tscPath, '-p', join(repoRoot, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], repoRoot);
  cpSync(join(repoRoot, 'lib/engine/redis/lua'), join(stage, 'dist/engine/redis/lua'), { recursive: true });
  // The dashboard, as `npm run build:ui` builds it (dist/ui).
  await sh(process.execPath, [join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'ui/vite.config.mjs', '--outDir', join(stage, 'dist/ui'), '--logLevel', 'error'], repoRoot);
  for (const file of ['package.json', 'README.md', 'LICENSE']) cpSync(join(repoRoot, file), join(stage, file));
  // --ignore-scripts: prepack would run the build again, in a directory without the sources.
  await sh('npm', ['pack', '--ignore-scripts', '--pack-destination', workDir], stage);
  const tarball = readdirSync(workDir).find((name) => name.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack left no tarball in ${workDir}`);
  return join(workDir, tarball);
}

/** A fresh npm project: package.json with `fields`, then `npm install` of `packages` (registry names or a tarball path). */
export async function makeProject(dir: string, fields: Record<string, unknown>, packages: string[], installFlags: string[] = []): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'gotick-user-app', version: '1.0.0', private: true, ...fields }, null, 2));
  await sh('npm', ['install', '--no-package-lock', ...installFlags, ...packages], dir);
  return dir;
}

/** `tsc -p <project>` with the repository's compiler; resolves to its diagnostics ('' when clean). */
export async function typecheck(project: string, cwd: string): Promise<string> {
  try {
    await exec(process.execPath, [tscPath, '-p', project, '--pretty', 'false'], { cwd, maxBuffer: 1 << 24 });
    return '';
  } catch (err) {
    const failure = err as { stdout?: string; stderr?: string };
    return `${failure.stdout ?? ''}${failure.stderr ?? ''}` || 'tsc failed without output';
  }
}
