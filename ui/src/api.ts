import type { Run, RunCounts, RunPage } from './types';

const TOKEN_KEY = 'gotick.token';

/** A call the server refused or could not answer; `status` 0 when it was not reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The page is served at <path>/ui/, the REST routes at <path>/: resolving
 * against the page's own URL keeps any proxy prefix the browser sees.
 */
const base = new URL('../', window.location.href);

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The token lives in this tab's sessionStorage only: never in a URL, a cookie or localStorage. */
export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = storedToken();
  // Without a token the request goes out bare: the app's own guard (its session) may let it through.
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(new URL(path, base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, `The server could not be reached (${(err as Error).message}).`);
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const message = typeof parsed === 'object' && parsed && 'message' in parsed ? String((parsed as { message: unknown }).message) : response.statusText;
    throw new ApiError(response.status, message || `HTTP ${response.status}`);
  }
  return parsed as T;
}

const enc = encodeURIComponent;

export const api = {
  flows: () => call<{ flows: Array<{ id: string }> }>('GET', 'flows'),
  counts: (flowId: string) => call<RunCounts>('GET', `flows/${enc(flowId)}/counts`),
  schedules: () => call<unknown>('GET', 'schedules'),
  runs: (query: { flowId?: string; status?: string; cursor?: string; limit?: number }, signal?: AbortSignal) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
    return call<RunPage>('GET', `runs${params.size ? `?${params}` : ''}`, undefined, signal);
  },
  run: (runId: string, signal?: AbortSignal) => call<Run>('GET', `runs/${enc(runId)}`, undefined, signal),
  trigger: (flowId: string, input: unknown) => call<{ runId: string; created: boolean }>('POST', `flows/${enc(flowId)}/runs`, { input }),
  cancel: (runId: string, reason?: string) => call<{ runId: string; status: string }>('POST', `runs/${enc(runId)}/cancel`, reason ? { reason } : {}),
  retry: (runId: string) => call<{ runId: string; status: string }>('POST', `runs/${enc(runId)}/retry`),
  signal: (runId: string, name: string, payload: unknown) =>
    call<{ runId: string; name: string }>('POST', `runs/${enc(runId)}/signals/${enc(name)}`, payload === undefined ? {} : { payload }),
};
