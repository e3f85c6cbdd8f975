// What engine, Nest layer and client share; each subpath re-exports it.
export * from './errors';
export * from './types';
export type { Duration } from './duration';
export { MAX_TIME_MS } from './duration';
export type { FlowContext, Future, StatusSetter } from './flow-context';
export type { GoTickApi, RunHandle, TriggerArgs } from './api';
export { defineFlow, type FlowRef } from './flow-ref';
