import { contractSuite, REDIS_ONLY } from './contract';
import { memoryDriver } from './drivers';

describe('contract on the in-memory backend (nestjs-gotick/testing)', () => {
  const driver = memoryDriver();
  contractSuite(driver);

  describe('what only Redis can show', () => {
    for (const [name, reason] of REDIS_ONLY) it.skip(`${name} (${reason})`, () => undefined);
  });
});
