import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRedis, type TestRedis } from '../support/redis-server';

const run = promisify(execFile);

describe('memory over many runs', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it('keeps the heap within 20 MB of where it started after 20,000 runs', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--expose-gc', '-r', '@swc-node/register', 'test/fixtures/heap-check.ts', redis.url, '20000'],
      { cwd: `${__dirname}/../..`, timeout: 120_000 },
    );
    const { before, after, runs } = JSON.parse(stdout.trim().split('\n').pop()!) as { before: number; after: number; runs: number };
    expect(runs).toBe(20_000);
    expect(after - before).toBeLessThan(20 * 1024 * 1024);
  }, 150_000);
});
