import { InterceptorError } from '../../common/errors';
import type { ExecutionEnd, GoTickInterceptor, RunInterceptInfo, StepInterceptInfo } from '../../common/interceptors';

/** The composed `interceptStep` of every interceptor: undefined when none has one, so the step path only branches. */
export type StepChain = (info: StepInterceptInfo, next: () => Promise<unknown>) => Promise<unknown>;
/** The composed `interceptRun` of every interceptor, undefined when none has one. */
export type RunChain = (info: RunInterceptInfo, next: () => Promise<ExecutionEnd>) => Promise<unknown>;

type Wrap<I, R> = (info: I, next: () => Promise<R>) => Promise<unknown>;

/**
 * Nests the wraps in order, the first outermost. Each `next` may be called
 * once: a second call would run what it wraps (a step's side effect) twice.
 * Built once per engine; a call allocates one `next` per interceptor.
 */
function compose<I, R>(wraps: Array<Wrap<I, R>>, what: string): ((info: I, next: () => Promise<R>) => Promise<R>) | undefined {
  if (!wraps.length) return undefined;
  return (info, innermost) => {
    const enter = (i: number): Promise<R> => {
      if (i === wraps.length) return innermost();
      let called = false;
      const next = (): Promise<R> => {
        if (called) return Promise.reject(new InterceptorError(`An interceptor called next() of ${what} twice; call it once and return its result.`));
        called = true;
        return enter(i + 1);
      };
      // A synchronous throw becomes a rejection, as from the body itself.
      try {
        return Promise.resolve(wraps[i](info, next)) as Promise<R>;
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return enter(0);
  };
}

/** The step and run chains of a list of interceptors (the engine's own first). */
export function buildChains(interceptors: readonly GoTickInterceptor[]): { step?: StepChain; run?: RunChain } {
  const steps = interceptors.filter((i) => typeof i.interceptStep === 'function').map((i): Wrap<StepInterceptInfo, unknown> => (info, next) => i.interceptStep!(info, next));
  const runs = interceptors.filter((i) => typeof i.interceptRun === 'function').map((i): Wrap<RunInterceptInfo, ExecutionEnd> => (info, next) => i.interceptRun!(info, next));
  return { step: compose(steps, 'interceptStep'), run: compose(runs, 'interceptRun') };
}
