import { beforeDeadline } from './poll-until-finished';

describe('beforeDeadline', () => {
  afterEach(() => jest.useRealTimers());

  it('a deadline 2^31 ms or more away does not expire at once (setTimeout overflow)', async () => {
    jest.useFakeTimers({ now: 0 });
    let outcome = 'pending';
    beforeDeadline(new Promise<never>(() => undefined), 30 * 86_400_000, () => new Error('late')).catch(() => (outcome = 'timed out'));
    await jest.advanceTimersByTimeAsync(1000);
    expect(outcome).toBe('pending');
    await jest.advanceTimersByTimeAsync(30 * 86_400_000);
    expect(outcome).toBe('timed out');
  });
});
