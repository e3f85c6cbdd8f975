// 'nestjs-gotick': the Nest module, decorators and TickService, plus the engine and client for convenience.
export * from './engine';
export * from './nest';
export { TickClient, TickClientError, type TickClientOptions } from './client/tick-client';
