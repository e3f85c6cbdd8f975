/**
 * Sizes of every scenario. The full set is what the targets are judged on
 * (about 3-4 minutes on 2 cores); the smoke set runs each scenario in
 * miniature for CI, in well under 30 s, and judges nothing.
 */
export interface BenchConfig {
  smoke: boolean;
  /** Runs triggered at once by a producer, in every throughput-style scenario. */
  producerConcurrency: number;
  stepCost: { steps: number; rounds: number };
  throughput: { runs: number; steps: number; concurrency: number; rounds: number; traceRuns: number };
  triggerLatency: { samples: number };
  wakeLateness: { wakeups: number; perSecond: number; rounds: number };
  replay: { ks: number[]; rounds: number; leadMs: number };
  memory: { runs: number };
  scaleOut: { workers: number[]; runs: number; rounds: number };
  sequentialTriggers: { runs: number; steps: number; rounds: number };
  endToEnd: { samples: number; steps: number };
  bulk: { runs: number; rounds: number };
}

const full: BenchConfig = {
  smoke: false,
  producerConcurrency: 50,
  stepCost: { steps: 100, rounds: 25 },
  throughput: { runs: 2000, steps: 10, concurrency: 50, rounds: 5, traceRuns: 100 },
  triggerLatency: { samples: 1000 },
  wakeLateness: { wakeups: 2000, perSecond: 500, rounds: 2 },
  replay: { ks: [1, 10, 100, 1000], rounds: 5, leadMs: 250 },
  memory: { runs: 100_000 },
  scaleOut: { workers: [1, 2, 4], runs: 2000, rounds: 3 },
  sequentialTriggers: { runs: 1000, steps: 10, rounds: 3 },
  endToEnd: { samples: 300, steps: 10 },
  bulk: { runs: 10_000, rounds: 3 },
};

const smoke: BenchConfig = {
  smoke: true,
  producerConcurrency: 20,
  stepCost: { steps: 10, rounds: 1 },
  throughput: { runs: 50, steps: 10, concurrency: 50, rounds: 1, traceRuns: 5 },
  triggerLatency: { samples: 10 },
  wakeLateness: { wakeups: 50, perSecond: 500, rounds: 1 },
  replay: { ks: [10, 100, 1000], rounds: 1, leadMs: 150 },
  memory: { runs: 200 },
  scaleOut: { workers: [1, 2], runs: 50, rounds: 1 },
  sequentialTriggers: { runs: 30, steps: 10, rounds: 1 },
  endToEnd: { samples: 10, steps: 10 },
  bulk: { runs: 200, rounds: 1 },
};

export function benchConfig(smokeMode: boolean): BenchConfig {
  return smokeMode ? smoke : full;
}
