import { iso, toRunSummary } from './run-view';
import type { RunRecord } from './ports';

describe('run views', () => {
  it('show a timestamp past the Date range as its number instead of throwing', () => {
    expect(iso(1e20)).toBe('100000000000000000000');
    expect(iso(NaN)).toBe('NaN');
    expect(iso(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(iso(undefined)).toBeUndefined();
  });

  it('summarise a run whose wake time is out of range (one bad record must not break a list)', () => {
    const run = { runId: 'r', flowId: 'f', status: 'sleeping', createdAt: 0, updatedAt: 0, wakeAt: 1e20, executions: 1 } as RunRecord;
    expect(toRunSummary(run)).toMatchObject({ runId: 'r', wakeAt: '100000000000000000000', createdAt: '1970-01-01T00:00:00.000Z' });
  });

  it('say a run waits for a concurrency slot only while it is queued with the mark its park wrote', () => {
    const base = { runId: 'r', flowId: 'f', createdAt: 0, updatedAt: 0, executions: 0, slotGroup: JSON.stringify(['f', 'customer-42']) } as const;
    const waiting = toRunSummary({ ...base, status: 'queued', slotWaitAt: 1000 });
    expect(waiting.waitingForSlot).toEqual({ key: 'customer-42', since: '1970-01-01T00:00:01.000Z' });
    expect(toRunSummary({ ...base, status: 'queued', slotGroup: JSON.stringify(['f', '']), slotWaitAt: 0 }).waitingForSlot).toEqual({ key: '', since: '1970-01-01T00:00:00.000Z' });
    // slotGroup outlives the wait: without the mark, or past queued, the run does not wait in line.
    expect(toRunSummary({ ...base, status: 'queued' })).not.toHaveProperty('waitingForSlot');
    expect(toRunSummary({ ...base, status: 'cancelled', slotWaitAt: 1000 })).not.toHaveProperty('waitingForSlot');
    expect(toRunSummary({ ...base, status: 'queued', slotGroup: 'not json', slotWaitAt: 1000 })).not.toHaveProperty('waitingForSlot');
  });
});
