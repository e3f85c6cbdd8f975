import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = __dirname;
const tsc = resolve(here, '../../node_modules/typescript/bin/tsc');

/** tsc's diagnostics as `file(line,col): error TSnnnn`, and its exit code. */
async function typecheck(project: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', project, '--pretty', 'false'], { maxBuffer: 1 << 24 });
    return { code: 0, output: stdout };
  } catch (err) {
    const failure = err as { code: number; stdout: string };
    return { code: failure.code, output: failure.stdout };
  }
}

describe('type tests (tsc over test/types/*.test-d.ts)', () => {
  const files = readdirSync(here).filter((name) => name.endsWith('.test-d.ts'));

  it('compiles: every good line is accepted, every @ts-expect-error line is refused', async () => {
    expect(files.length).toBeGreaterThan(0);
    const { code, output } = await typecheck(join(here, 'tsconfig.json'));
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  // The check above would also pass if the markers hid nothing (say, the types became `any`):
  // with the markers removed, each marked line alone must fail, and nothing else.
  it.each(files)('%s: without its @ts-expect-error markers, exactly the marked lines fail', async (file) => {
    const dir = mkdtempSync(join(here, '.unmarked-'));
    try {
      const lines = readFileSync(join(here, file), 'utf8').split('\n');
      const expected: number[] = [];
      const stripped = lines.map((line, index) => {
        if (!line.trim().startsWith('// @ts-expect-error')) return line;
        expected.push(index + 2); // the marked statement is on the next line (1-based)
        return '';
      });
      writeFileSync(join(dir, file), stripped.join('\n'));
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', include: ['*.test-d.ts'] }));
      const { code, output } = await typecheck(join(dir, 'tsconfig.json'));
      const failedLines = [...output.matchAll(/\.test-d\.ts\((\d+),\d+\): error TS\d+/g)].map((match) => Number(match[1]));
      expect(code).not.toBe(0);
      expect([...new Set(failedLines)].sort((a, b) => a - b)).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
