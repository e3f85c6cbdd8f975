import { contractSuite } from './contract';
import { redisDriver } from './drivers';

describe('contract on Redis (BullMQ + ioredis, a private redis-server)', () => {
  const driver = redisDriver();
  beforeAll(() => driver.setUp());
  afterAll(() => driver.tearDown());
  contractSuite(driver);
});
