import type { Scenario } from '../report/types';
import { bulkTrigger } from './bulk-trigger';
import { endToEnd } from './end-to-end';
import { fsyncAlways } from './fsync-always';
import { memoryPerSleepingRun } from './memory';
import { replayCost } from './replay-cost';
import { scaleOut } from './scale-out';
import { sequentialTriggers } from './sequential-triggers';
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
  ['sequential-triggers', sequentialTriggers],
  ['end-to-end', endToEnd],
  ['bulk-trigger', bulkTrigger],
  ['fsync-always', fsyncAlways],
];
