import { Queue } from 'bullmq';
import { GoTickConfigError } from '../../common/errors';
import { bullPrefix, QUEUE_NAME } from './run-queue';

/** A BullMQ Queue made outside the engine (the Nest module registers them with @nestjs/bullmq). */
export type GivenQueue = Queue;

/** What each partition's queue is in BullMQ: its name and key prefix. @public */
export interface RunQueueSpec {
  name: string;
  prefix: string;
}

/** The BullMQ name and prefix of every partition's run queue, in partition order. */
export function runQueueSpecs(prefix: string, partitions: number, cluster: boolean): RunQueueSpec[] {
  return Array.from({ length: partitions }, (_, i) => ({ name: QUEUE_NAME, prefix: bullPrefix(prefix, i, { partitions, cluster }) }));
}

/**
 * Refuses queues the engine cannot use as its own: one per partition, each
 * with the spec's name and prefix, and made by the same bullmq the engine's
 * workers use (another copy would add jobs with its own scripts).
 */
export function checkGivenQueues(queues: ReadonlyArray<unknown>, specs: RunQueueSpec[]): GivenQueue[] {
  if (queues.length !== specs.length) {
    throw new GoTickConfigError(
      `GoTick was given ${queues.length} queue(s) for ${specs.length} partition(s). With forRootAsync and partitions, ` +
        'pass the same partitions next to useFactory, so the module registers one queue per partition.',
    );
  }
  return queues.map((queue, i) => {
    if (!(queue instanceof Queue)) {
      throw new GoTickConfigError(
        `GoTick's queue ${i} is not a Queue of the bullmq that GoTick uses (another copy of bullmq is installed, ` +
          'probably under @nestjs/bullmq): run `npm dedupe`, or install a bullmq version that satisfies both.',
      );
    }
    const spec = specs[i];
    if (queue.name !== spec.name || queue.opts.prefix !== spec.prefix) {
      throw new GoTickConfigError(`GoTick's queue ${i} is "${queue.opts.prefix}:${queue.name}"; partition ${i} must be "${spec.prefix}:${spec.name}".`);
    }
    return queue;
  });
}
