import { RedisConcurrencySlots } from '../../lib/engine/redis/concurrency-slots';
import { RedisMailboxStore } from '../../lib/engine/redis/mailbox-store';
import { RedisScheduleStore } from '../../lib/engine/redis/schedule-store';
import { RedisRetryStore } from '../../lib/engine/redis/retry-store';
import { RedisRunStore } from '../../lib/engine/redis/run-store';
import { MemoryConcurrencySlots } from '../../lib/testing/memory/memory-concurrency-slots';
import { MemoryDb } from '../../lib/testing/memory/memory-db';
import { MemoryScheduleStore } from '../../lib/testing/memory/memory-schedules';
import { MemoryMailboxStore } from '../../lib/testing/memory/memory-mailbox-store';
import { MemoryRetryStore } from '../../lib/testing/memory/memory-retry-store';
import { MemoryRunStore } from '../../lib/testing/memory/memory-run-store';
import { VirtualClock } from '../../lib/testing/virtual-clock';
import { startRedis, type TestRedis } from '../support/redis-server';
import { portsContract, type PortsEnv } from './ports-contract';

describe('store ports on Redis (the Lua scripts)', () => {
  let redis: TestRedis;
  let env: PortsEnv;
  beforeAll(async () => {
    redis = await startRedis();
    const prefix = `ports${process.pid}`;
    env = {
      store: new RedisRunStore(redis.client, prefix, 60_000),
      shortRetention: new RedisRunStore(redis.client, prefix, 300),
      mailbox: new RedisMailboxStore(redis.client, prefix),
      retries: new RedisRetryStore(redis.client, prefix),
      slots: new RedisConcurrencySlots(redis.client, prefix),
      schedules: new RedisScheduleStore(redis.client, prefix),
      now: () => Date.now(),
      pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
  });
  afterAll(() => redis?.stop());
  portsContract(() => env);
});

describe('store ports in memory (nestjs-gotick/testing)', () => {
  const clock = new VirtualClock();
  const db = new MemoryDb(clock);
  const env: PortsEnv = {
    store: new MemoryRunStore(db, 60_000),
    shortRetention: new MemoryRunStore(db, 300),
    mailbox: new MemoryMailboxStore(db),
    retries: new MemoryRetryStore(db),
    slots: new MemoryConcurrencySlots(db, clock),
    schedules: new MemoryScheduleStore(),
    now: () => clock.now(),
    pass: async (ms) => clock.advanceTo(clock.now() + ms),
  };
  portsContract(() => env);
});
