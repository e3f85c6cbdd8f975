import type { ErrorInfo } from '../common/types';

/** What we keep of an error: name and message. Stacks stay in logs, never in Redis or HTTP. */
export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) return { name: err.name || 'Error', message: err.message };
  return { name: 'Error', message: typeof err === 'string' ? err : JSON.stringify(err) ?? String(err) };
}
