import type { Redis } from 'ioredis';
import type { BenchConfig } from '../config';

/** One measured figure: the median over rounds, with every round's value kept for RESULTS.md. */
export interface Figure {
  variant: string;
  metric: string;
  value: number;
  unit: string;
  rounds?: number[];
}

export interface Ratio {
  label: string;
  value: number;
}

/** A target from the brief; a MISS is reported, never fatal. */
export interface TargetCheck {
  target: string;
  actual: string;
  pass: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  figures: Figure[];
  ratios: Ratio[];
  targets: TargetCheck[];
  /** Breakdowns (Redis commands, round trips, memory per key) as markdown bullet text. */
  notes: string[];
  seconds?: number;
}

export interface ScenarioContext {
  url: string;
  /** A client for INFO/SLOWLOG/FLUSHALL only; it never does a variant's work. */
  observer: Redis;
  config: BenchConfig;
  log: (line: string) => void;
}

export type Scenario = (ctx: ScenarioContext) => Promise<ScenarioResult>;
