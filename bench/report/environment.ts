import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

export interface Environment {
  date: string;
  node: string;
  redis: string;
  bullmq: string;
  ioredis: string;
  cpuCount: number;
  cpuModel: string;
  memoryGb: number;
  commit: string;
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function gitCommit(): string {
  try {
    const head = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execSync('git status --porcelain -- lib', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head} (lib/ has uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function environment(redisVersion: string): Environment {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    redis: redisVersion,
    bullmq: packageVersion('bullmq'),
    ioredis: packageVersion('ioredis'),
    cpuCount: list.length,
    cpuModel: list[0]?.model?.trim() ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    commit: gitCommit(),
  };
}
