import { FlowTimeoutError, StepTimeoutError } from '../common/errors';
import { errorInfo, MAX_STACK_LINES, trimStack, withoutStack } from './error-info';

describe('errorInfo', () => {
  it('keeps name, message and the stack of an Error, with the frame of the function that threw', () => {
    function chargeTheCard(): never {
      throw new TypeError('card declined');
    }
    let caught: unknown;
    try {
      chargeTheCard();
    } catch (err) {
      caught = err;
    }
    const info = errorInfo(caught);
    expect(info).toMatchObject({ name: 'TypeError', message: 'card declined' });
    expect(info.stack).toMatch(/^TypeError: card declined\n\s+at chargeTheCard /);
  });

  it('keeps no stack for a timeout (raised by the engine\'s timer, no user frame in it)', () => {
    expect(errorInfo(new StepTimeoutError('k', 5))).toEqual({ name: 'StepTimeoutError', message: 'Step "k" timed out after 5 ms.' });
    expect(errorInfo(new FlowTimeoutError('r', 5)).stack).toBeUndefined();
  });

  it('has no stack for a thrown non-Error', () => {
    expect(errorInfo('plain')).toEqual({ name: 'Error', message: 'plain' });
    expect(errorInfo({ code: 7 })).toEqual({ name: 'Error', message: '{"code":7}' });
  });

  it('drops Node internal frames, caps the lines and cuts very long ones', () => {
    const frames = Array.from({ length: 50 }, (_, i) => `    at userFrame${i} (/app/src/file.ts:${i}:1)`);
    const stack = [
      'Error: boom',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at node:internal/main/run_main_module:28:49',
      `    at minified (/app/bundle.js:1:${'9'.repeat(1000)})`,
      ...frames,
    ].join('\n');
    const lines = trimStack(stack)!.split('\n');
    expect(lines).toHaveLength(MAX_STACK_LINES);
    expect(lines[0]).toBe('Error: boom');
    expect(lines.some((line) => line.includes('node:internal'))).toBe(false);
    expect(lines[1].length).toBeLessThanOrEqual(301);
    expect(lines[2]).toBe(frames[0]);
  });

  it('withoutStack leaves the rest of the entry', () => {
    expect(withoutStack({ name: 'E', message: 'm', stack: 's', attempt: 2 } as never)).toEqual({ name: 'E', message: 'm', attempt: 2 });
  });
});
