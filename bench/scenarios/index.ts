import type { Scenario } from '../report/types';
import { fsyncAlways } from './fsync-always';
import { memoryPerSleepingRun } from './memory';
import { replayCost } from './replay-cost';
import { scaleOut } from './scale-out';
import { stepCost } from './step-cost';
import { throughput } from './throughput';
import { triggerLatency } from './trigger-latency';
import { wakeLateness } from './wake-lateness';

/** Every scenario, in the order the brief numbers them; ids are what `--only=` takes. */
export const SCENARIOS: ReadonlyArray<readonly [id: string, run: Scenario]> = [
  ['step-cost', stepCost],
  ['throughput', throughput],
  ['trigger-latency', triggerLatency],
  ['wake-lateness', wakeLateness],
  ['replay-cost', replayCost],
  ['memory', memoryPerSleepingRun],
  ['scale-out', scaleOut],
  ['fsync-always', fsyncAlways],
];
