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
});
