import { packStep, unpackStep } from './step-codec';
import type { StepRecord } from '../ports';

describe('step records as stored', () => {
  it.each<StepRecord>([
    { kind: 'memo', status: 'completed', attempts: 1, seq: 0, finishedAt: 1795469056847, result: '{"v":147}' },
    { kind: 'sleep', status: 'sleeping', attempts: 0, seq: 3, wakeAt: 1795469056847 },
    { kind: 'task', status: 'retrying', attempts: 2, seq: 1, wakeAt: 5, errors: [{ name: 'Error', message: 'x', attempt: 2, at: 4 }] },
    { kind: 'async', status: 'failed', attempts: 4, seq: 9, finishedAt: 7, errors: [] },
    { kind: 'async', status: 'completed', attempts: 1, seq: 4, finishedAt: 1795469056847, startedAt: 1795469056800, waitGroup: 2 },
    { kind: 'task', status: 'completed', attempts: 1, seq: 4, finishedAt: 1795469056847, startedAt: 1795469056847 },
    { kind: 'signal', status: 'waiting', attempts: 0, seq: 5, startedAt: 1795469056847, waitingFor: 'go' },
  ])('round-trips a $kind step that is $status', (step) => {
    expect(unpackStep(packStep(step))).toEqual(step);
  });

  it('keeps a finished memo under the 64 bytes that let Redis use its compact hash encoding', () => {
    // With its start time, as the engine writes it: the last attempt took 40 ms.
    const packed = packStep({ kind: 'memo', status: 'completed', attempts: 1, seq: 12, finishedAt: 1795469056847, result: '{"v":147}', startedAt: 1795469056807 });
    expect(Buffer.byteLength(packed)).toBeLessThan(64);
  });

  it('keeps a finished task with its start time and wait group well under 64 bytes', () => {
    const packed = packStep({ kind: 'async', status: 'completed', attempts: 1, seq: 9999, finishedAt: 1795469056847, startedAt: 1795469050000, waitGroup: 99 });
    expect(Buffer.byteLength(packed)).toBeLessThan(56);
  });
});

describe('a running step marker as stored', () => {
  it('stays under 64 bytes with the longest node id the engine makes', () => {
    const node = `${'h'.repeat(16)}:${4194304}`;
    const packed = packStep({ kind: 'async', status: 'running', attempts: 9, seq: 999, startedAt: 1795469056847, node });
    expect(Buffer.byteLength(packed)).toBeLessThanOrEqual(64);
    expect(unpackStep(packed)).toEqual({ kind: 'async', status: 'running', attempts: 9, seq: 999, startedAt: 1795469056847, node });
  });

  it('reads records written with null for absent fields', () => {
    expect(unpackStep('["m","c",1,0,5,null,"7"]')).toEqual({ kind: 'memo', status: 'completed', attempts: 1, seq: 0, finishedAt: 5, result: '7' });
  });
});
