import { explainUnavailable } from './connection';

/** Redis calls fail with ioredis' own wording; say it in ours, and keep the original as cause. A plain catch: no extra promise per call. */
export function guarded<T>(call: Promise<T>): Promise<T> {
  return call.catch(explainUnavailable);
}
