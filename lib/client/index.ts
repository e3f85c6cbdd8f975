// 'nestjs-gotick/client': calls a GoTick app over HTTP; loads without Nest, BullMQ or ioredis.
export * from '../common';
export { TickClient, TickClientError, type TickClientOptions } from './tick-client';
