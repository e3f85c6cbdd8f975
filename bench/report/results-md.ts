import { writeFileSync } from 'node:fs';
import { fmt, fmtRatio } from '../support/stats';
import type { Environment } from './environment';
import type { ScenarioResult } from './types';

const cell = (text: string) => text.replace(/\|/g, '\\|');

function scenarioSection(result: ScenarioResult): string[] {
  const lines = [`## ${result.title}`, ''];
  if (result.seconds) lines.push(`Took ${fmt(result.seconds)} s.`, '');
  lines.push('| variant | metric | median | unit | every round |', '| --- | --- | ---: | --- | --- |');
  for (const f of result.figures) {
    lines.push(`| ${cell(f.variant)} | ${cell(f.metric)} | ${fmt(f.value)} | ${f.unit} | ${(f.rounds ?? []).map((v) => fmt(v)).join(', ')} |`);
  }
  if (result.ratios.length) {
    lines.push('', '| ratio | value |', '| --- | ---: |');
    for (const r of result.ratios) lines.push(`| ${cell(r.label)} | ${fmtRatio(r.value)} |`);
  }
  if (result.targets.length) {
    lines.push('', '| target | actual | result |', '| --- | --- | --- |');
    for (const t of result.targets) lines.push(`| ${cell(t.target)} | ${cell(t.actual)} | ${t.pass ? 'PASS' : 'MISS'} |`);
  }
  if (result.notes.length) lines.push('', ...result.notes.map((note) => `- ${note}`));
  lines.push('');
  return lines;
}

export function writeResults(path: string, env: Environment, results: ScenarioResult[], smoke: boolean, totalSeconds: number): void {
  const lines = [
    '# nestjs-gotick benchmark results',
    '',
    `Written by \`npm run bench${smoke ? ' -- --smoke' : ''}\`. Every scenario measures GoTick and its baselines in one process run,`,
    'interleaved round by round on the same private redis-server (AOF on, fsync every second), so compare the',
    'ratios more than the absolute times: absolute times drift on shared machines.',
    smoke ? '\n**Smoke run: tiny sizes, figures are not meaningful and targets are not judged.**' : '',
    '',
    '| | |',
    '| --- | --- |',
    `| date | ${env.date} |`,
    `| Node | ${env.node} |`,
    `| Redis | ${env.redis} |`,
    `| BullMQ / ioredis | ${env.bullmq} / ${env.ioredis} |`,
    `| CPUs | ${env.cpuCount} x ${env.cpuModel} |`,
    `| memory | ${env.memoryGb} GB |`,
    `| commit | ${env.commit} |`,
    `| total time | ${fmt(totalSeconds)} s |`,
    '',
    '## Targets',
    '',
    '| scenario | target | actual | result |',
    '| --- | --- | --- | --- |',
    ...results.flatMap((r) => r.targets.map((t) => `| ${r.id} | ${cell(t.target)} | ${cell(t.actual)} | ${t.pass ? 'PASS' : 'MISS'} |`)),
    '',
    ...results.flatMap(scenarioSection),
  ];
  writeFileSync(path, lines.join('\n'));
}
