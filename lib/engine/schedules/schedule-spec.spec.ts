import { InvalidScheduleError } from '../../common/errors';
import { checkSchedule, codeSchedules, firstIntervalSlot, latestSlot, slotRunId } from './schedule-spec';

const at = (iso: string) => Date.parse(iso);

describe('schedule specs', () => {
  it('reads a cron in its IANA zone across DST: 06:00 Berlin is 05:00Z in winter, 04:00Z in summer', () => {
    const timing = checkSchedule('s', 'f', { cron: '0 6 * * *', tz: 'Europe/Berlin' }).timing;
    // The latest slot due, just before and just after the spring and autumn changes.
    expect(latestSlot(timing, at('2026-03-28T05:00:00Z'), at('2026-03-29T04:30:00Z'))).toBe(at('2026-03-29T04:00:00Z'));
    expect(latestSlot(timing, at('2026-10-24T04:00:00Z'), at('2026-10-25T05:30:00Z'))).toBe(at('2026-10-25T05:00:00Z'));
    expect(latestSlot(timing, at('2026-10-24T04:00:00Z'), at('2026-10-25T04:59:59Z'))).toBe(at('2026-10-24T04:00:00Z'));
  });

  it('collapses missed interval slots into the latest one due, and never goes back before the planned one', () => {
    const timing = { everyMs: 1000 };
    expect(latestSlot(timing, 10_000, 14_500)).toBe(14_000);
    expect(latestSlot(timing, 10_000, 10_999)).toBe(10_000);
    expect(latestSlot(timing, 10_000, 9_000)).toBe(10_000);
    expect(firstIntervalSlot(60_000, 61_000)).toBe(120_000);
    expect(firstIntervalSlot(60_000, 120_000)).toBe(120_000);
  });

  it('gives each slot one run id, distinct for ids that differ only in characters a run id cannot hold', () => {
    expect(slotRunId('nightly', 1000)).toBe('sched.nightly.1000');
    expect(slotRunId('a/b', 1000)).not.toBe(slotRunId('a.b', 1000));
    expect(slotRunId('a/b', 1000)).toMatch(/^sched\.a_b\.[0-9a-f]{10}\.1000$/);
    expect(slotRunId('x'.repeat(200), 1).length).toBeLessThanOrEqual(200);
  });

  it('names code schedules by flow id, or <flowId>#<n> in a list, and refuses an id twice', () => {
    expect(codeSchedules('f', '0 6 * * *').map((s) => s.scheduleId)).toEqual(['f']);
    expect(codeSchedules('f', [{ every: '1h' }, { id: 'own', cron: '0 1 * * *' }, '0 2 * * *']).map((s) => s.scheduleId)).toEqual(['f#0', 'own', 'f#2']);
    expect(() => codeSchedules('f', [{ id: 'x', every: '1h' }, { id: 'x', every: '2h' }])).toThrow(InvalidScheduleError);
  });

  it('refuses what BullMQ could not keep, naming it', () => {
    expect(() => checkSchedule('s', 'f', { cron: '0 6 * * *', tz: 'Europe/Berlinn' })).toThrow('Invalid schedule "s": time zone "Europe/Berlinn" is not an IANA zone name');
    expect(() => checkSchedule('s', 'f', { every: '1h', tz: 'UTC' })).toThrow(/tz applies to cron only/);
    expect(() => checkSchedule('s', 'f', { cron: '' })).toThrow(/cron must be a cron expression/);
    expect(() => checkSchedule('s', 'f', 42)).toThrow(/expected a cron string/);
  });
});
