// 'nestjs-gotick/engine': the durable runtime without Nest.
export * from '../common';
export type { FlowDefinition, FlowHooks, EngineLogger } from './flow-definition';
export type { RedisConnection, ClusterConnection } from './redis/connection';
export { GoTickEngine } from './engine';
export type { EngineHealth } from './health';
export type { RunQueueSpec } from './bullmq/given-queues';
export type { GoTickEngineOptions } from './options';
export type { LogLevel } from './worker/run-log';
export type { MetricsOption, MetricsRegistry } from './observe/metrics';
export { EngineApi } from './engine-api';
