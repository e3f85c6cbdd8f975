import type { Backoff } from '../../common/types';
import { backoffMs } from './backoff';

describe('backoff', () => {
  it('grows exponential backoff up to its cap, and keeps fixed backoff flat', () => {
    const exponential: Backoff = { type: 'exponential', delay: '1s', maxDelay: '5s' };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffMs(exponential, attempt))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffMs({ type: 'fixed', delay: 200 }, 7)).toBe(200);
    expect(backoffMs('250ms', 3)).toBe(250);
  });
});
