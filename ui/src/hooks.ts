import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';

/**
 * Loads with `load` now and then every `everyMs` (0: not again; a function
 * decides from the data, e.g. stop once a run ended), one request at a time,
 * while the tab is visible. `reload` fetches at once (after an action).
 */
export function usePolled<T>(load: (signal: AbortSignal) => Promise<T>, everyMs: number | ((data: T) => number), deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const tick = useRef<() => void>(() => undefined);
  const every = useRef(everyMs);
  every.current = everyMs;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    let busy = false;
    let last: T | undefined;
    const run = async () => {
      if (stopped || busy) return;
      clearTimeout(timer);
      busy = true;
      try {
        const value = await load(controller.signal);
        last = value;
        if (!stopped) {
          setData(value);
          setError(undefined);
        }
      } catch (err) {
        if (!stopped) setError(err as Error);
      } finally {
        busy = false;
        const ms = typeof every.current === 'function' ? (last === undefined ? 1000 : every.current(last)) : every.current;
        if (!stopped && ms > 0) timer = setTimeout(() => (document.hidden ? undefined : void run()), ms);
      }
    };
    const onVisible = () => {
      if (!document.hidden) void run();
    };
    tick.current = () => void run();
    setData(undefined);
    void run();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
      document.removeEventListener('visibilitychange', onVisible);
    };
    // `load` is a fresh closure each render: the caller's deps say when it means something else.
  }, deps);
  const reload = useCallback(() => tick.current(), []);
  return { data, error, reload };
}

function subscribeHash(onChange: () => void) {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The route lives in the URL's hash (#/runs/…): the server serves one page, whatever the route. */
export function useRoute(): { path: string[]; query: URLSearchParams } {
  const hash = useSyncExternalStore(subscribeHash, () => window.location.hash);
  const [path, search = ''] = hash.replace(/^#\/?/, '').split('?');
  return { path: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

export function href(path: string[], query?: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value) params.set(key, value);
  return `#/${path.map(encodeURIComponent).join('/')}${params.size ? `?${params}` : ''}`;
}

/** Re-renders every `ms` (running bars grow with the clock). */
export function useNow(ms: number, active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms, active]);
  return now;
}
