/**
 * The ports the engine runs on: what a backend (Redis and BullMQ, or the
 * testing kit's memory) implements. One file per concern.
 */
export * from './records';
export * from './run-store';
export * from './run-queue';
export * from './mailbox';
export * from './slots';
export * from './schedules';
