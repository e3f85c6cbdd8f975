import type { DynamicModule, Provider } from '@nestjs/common';
import { GoTickConfigError, type GoTickEngine } from '../../engine';
import { GOTICK_ENGINE } from '../gotick.constants';

/**
 * The @nestjs/bullmq name of GoTick's run queue: `@InjectQueue(GOTICK_QUEUE)`
 * gives the BullMQ Queue that runs are enqueued on (partition 0; see
 * goTickQueueName for the others), and Bull Board's
 * `BullBoardModule.forFeature({ name: GOTICK_QUEUE, adapter: BullMQAdapter })`
 * shows it. Only a Nest token: in Redis the queue is `runs` under GoTick's
 * `prefix`, so no app queue of any name meets it.
 * @public
 */
export const GOTICK_QUEUE = 'nestjs-gotick:runs';

/**
 * The @nestjs/bullmq name of partition `partition`'s run queue: GOTICK_QUEUE
 * for 0, `nestjs-gotick:runs:p<n>` for the others (option `partitions`).
 * @public
 */
export function goTickQueueName(partition: number): string {
  return partition === 0 ? GOTICK_QUEUE : `${GOTICK_QUEUE}:p${partition}`;
}

/** GoTick's own BullModule configKey: its queues never take the app's default connection or options. @public */
export const GOTICK_BULL_CONFIG_KEY = 'nestjs-gotick';

/** The modules a registration added, so withoutQueueRegistration can take them out again. */
const registered = new WeakSet<object>();

/** Resolves once every queue is handed to the engine (before start()). */
const GOTICK_QUEUES_GIVEN = Symbol('GOTICK_QUEUES_GIVEN');

type BullModuleClass = {
  forRootAsync(configKey: string, options: { inject: unknown[]; useFactory: (...args: any[]) => object }): DynamicModule;
  registerQueueAsync(...options: Array<{ name: string; configKey: string; inject: unknown[]; useFactory: (...args: any[]) => object }>): DynamicModule;
};

type NestBullmq = { BullModule: BullModuleClass; getQueueToken(name: string): string };

/** @nestjs/bullmq when the app has it (an optional peer), else undefined. */
function loadNestBullmq(): NestBullmq | undefined {
  try {
    return require('@nestjs/bullmq') as NestBullmq;
  } catch (err) {
    const { code, message } = err as { code?: string; message?: string };
    if (code === 'MODULE_NOT_FOUND' && String(message).includes('@nestjs/bullmq')) return undefined;
    if (code === 'ERR_REQUIRE_ESM') {
      throw new GoTickConfigError(
        '@nestjs/bullmq is installed but this Node cannot load it (it ships ES modules only; Node 20.19+ or 22.12+ can): ' +
          'upgrade Node, or install @nestjs/bullmq@^11.0.5.',
      );
    }
    throw err;
  }
}

/** What GoTickModule adds so its queues are registered with @nestjs/bullmq. */
export interface GoTickQueueRegistration {
  imports: DynamicModule[];
  providers: Provider[];
  exports: Array<DynamicModule | symbol>;
}

/**
 * When the app has @nestjs/bullmq: GoTick's queues as BullModule queues under
 * GoTick's own configKey, made on the engine's producer connection (a run and
 * its job go out on one socket, in order) and handed to the engine, which then
 * makes none of its own. The module must be global (the default) so BullModule's
 * factories reach the engine. Without @nestjs/bullmq: nothing, the engine makes its queues.
 */
export function goTickQueueRegistration(partitions: number, global: boolean): GoTickQueueRegistration {
  const nestBullmq = global ? loadNestBullmq() : undefined;
  if (!nestBullmq) return { imports: [], providers: [], exports: [] };
  const { BullModule, getQueueToken } = nestBullmq;
  const names = Array.from({ length: partitions }, (_, i) => goTickQueueName(i));
  const queues = BullModule.registerQueueAsync(
    ...names.map((name, i) => ({
      name,
      configKey: GOTICK_BULL_CONFIG_KEY,
      inject: [GOTICK_ENGINE],
      // The spec's name is BullMQ's queue name ('runs'); `name` above is only the Nest token.
      useFactory: (engine: GoTickEngine) => engine.queueSpecs()[i],
    })),
  );
  const config = BullModule.forRootAsync(GOTICK_BULL_CONFIG_KEY, {
    inject: [GOTICK_ENGINE],
    // Every queue's options wait for this, so a mismatch stops bootstrap before any queue or connection exists.
    useFactory: (engine: GoTickEngine) => {
      const wanted = engine.queueSpecs().length;
      if (wanted !== partitions) {
        throw new GoTickConfigError(
          `GoTick's options say partitions: ${wanted}, but the module registered ${partitions} queue(s) before its factory ran: ` +
            `with forRootAsync, pass partitions: ${wanted} next to useFactory as well.`,
        );
      }
      return { connection: engine.queueConnection() };
    },
  });
  registered.add(config).add(queues);
  return {
    imports: [config, queues],
    providers: [
      {
        provide: GOTICK_QUEUES_GIVEN,
        inject: [GOTICK_ENGINE, ...names.map((name) => getQueueToken(name))],
        useFactory: (engine: GoTickEngine, ...given: unknown[]) => {
          try {
            engine.useQueues(given);
          } catch (err) {
            // Bootstrap stops here: the connection the queues opened must not outlive it. Closing it under
            // them makes BullMQ emit "Connection is closed", which says nothing the thrown error does not.
            for (const queue of given as Array<{ on?: (event: 'error', listener: () => void) => unknown }>) queue.on?.('error', () => undefined);
            void engine.close();
            throw err;
          }
          return true;
        },
      },
    ],
    exports: [queues],
  };
}

/**
 * The module without the @nestjs/bullmq registration of its queues: for an
 * engine on another backend (the testing kit's memory), which has no queues.
 */
export function withoutQueueRegistration(definition: DynamicModule): DynamicModule {
  const keep = (item: unknown) => !(typeof item === 'object' && item !== null && registered.has(item));
  return {
    ...definition,
    imports: definition.imports?.filter(keep),
    exports: definition.exports?.filter(keep),
    providers: definition.providers?.filter((provider) => !(typeof provider === 'object' && 'provide' in provider && provider.provide === GOTICK_QUEUES_GIVEN)),
  };
}
