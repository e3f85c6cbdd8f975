import { packStep, unpackStep } from './step-codec';
import type { StepRecord } from '../ports';

describe('step records as stored', () => {
  it.each<StepRecord>([
    { kind: 'memo', status: 'completed', attempts: 1, seq: 0, finishedAt: 1795469056847, result: '{"v":147}' },
    { kind: 'sleep', status: 'sleeping', attempts: 0, seq: 3, wakeAt: 1795469056847 },
    { kind: 'task', status: 'retrying', attempts: 2, seq: 1, wakeAt: 5, errors: [{ name: 'Error', message: 'x', attempt: 2, at: 4 }] },
    { kind: 'async', status: 'failed', attempts: 4, seq: 9, finishedAt: 7, errors: [] },
  ])('round-trips a $kind step that is $status', (step) => {
    expect(unpackStep(packStep(step))).toEqual(step);
  });

  it('keeps a finished memo under the 64 bytes that let Redis use its compact hash encoding', () => {
    const packed = packStep({ kind: 'memo', status: 'completed', attempts: 1, seq: 12, finishedAt: 1795469056847, result: '{"v":147}' });
    expect(Buffer.byteLength(packed)).toBeLessThan(64);
  });
});
