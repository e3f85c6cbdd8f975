// What engine, Nest layer and client share; each subpath re-exports it.
export * from './errors';
export * from './types';
export type { Duration, DurationUnit } from './duration';
export { asDuration, MAX_TIME_MS } from './duration';
export type { ChildArgs, FlowContext, Future, StartChildArgs, StatusSetter } from './flow-context';
export type { GoTickApi, RunHandle, TriggerArgs } from './api';
export { defineFlow, type FlowRef } from './flow-ref';
export type { GoTickInterceptor, RunInterceptInfo, StepInterceptInfo, ExecutionEnd } from './interceptors';
