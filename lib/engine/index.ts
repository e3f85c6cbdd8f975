export * from './errors';
export * from './types';
export type { Duration } from './duration';
export type { FlowContext, Future, StatusSetter } from './flow-context';
export type { FlowDefinition, FlowHooks, EngineLogger } from './flow-definition';
export type { RedisConnection } from './redis/connection';
export { GoTickEngine, type GoTickEngineOptions } from './engine';
