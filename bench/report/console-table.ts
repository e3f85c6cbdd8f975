import { fmt, fmtRatio } from '../support/stats';
import type { ScenarioResult } from './types';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  return rows.map((row) => '  ' + row.map((cell, col) => cell.padEnd(widths[col])).join('  ').trimEnd()).join('\n');
}

function roundsText(rounds?: number[]): string {
  return rounds && rounds.length > 1 ? rounds.map((value) => fmt(value)).join(' / ') : '';
}

/** One block per scenario: figures (median, every round), ratios, targets with PASS/MISS. */
export function renderScenario(result: ScenarioResult): string {
  const lines = [`\n== ${result.title}${result.seconds ? ` [${fmt(result.seconds)} s]` : ''}`];
  lines.push(
    table([
      ['variant', 'metric', 'median', 'unit', 'rounds'],
      ...result.figures.map((f) => [f.variant, f.metric, fmt(f.value), f.unit, roundsText(f.rounds)]),
    ]),
  );
  if (result.ratios.length) lines.push(table(result.ratios.map((r) => ['ratio', r.label, fmtRatio(r.value)])));
  for (const t of result.targets) lines.push(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.target}: ${t.actual}`);
  return lines.join('\n');
}

export function renderSummary(results: ScenarioResult[], judged: boolean): string {
  const rows = [['scenario', 'target', 'actual', judged ? 'result' : 'result (smoke: not judged)']];
  for (const result of results) {
    for (const t of result.targets) rows.push([result.id, t.target, t.actual, t.pass ? 'PASS' : 'MISS']);
  }
  return `\n== Targets\n${table(rows)}`;
}
