import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { AuthLost } from './auth-lost';
import { api, ApiError, setToken, storedToken } from './api';
import { href, useRoute } from './hooks';
import { FlowsView } from './views/Flows';
import { RunsView } from './views/Runs';
import { RunView } from './views/Run';

/** How the server checks callers ('token', 'guard' or 'public'), from the meta tag the library adds to the page. */
const AUTH = document.querySelector<HTMLMetaElement>('meta[name="gotick-auth"]')?.content;

type Gate = { kind: 'checking' } | { kind: 'open' } | { kind: 'locked'; message?: string } | { kind: 'down'; message: string };

export function App() {
  const [gate, setGate] = useState<Gate>({ kind: 'checking' });

  const check = useCallback(async (refusedMessage?: string) => {
    // With a token to give and none given yet, ask for it first: a bare call could only be refused.
    if (AUTH === 'token' && !storedToken()) {
      setGate({ kind: 'locked' });
      return;
    }
    try {
      await api.flows();
      setGate({ kind: 'open' });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        const had = storedToken() !== null;
        setToken(null);
        // A first visit without a token is just asked for one; a refused token, or a guard that says no, is told why.
        setGate({ kind: 'locked', message: had || err.status === 403 || AUTH === 'guard' ? refusedMessage ?? refused(err) : undefined });
      } else {
        setGate({ kind: 'down', message: (err as Error).message });
      }
    }
  }, []);

  useEffect(() => void check(), [check]);

  const authLost = useCallback((error: unknown) => {
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) return false;
    setToken(null);
    setGate({ kind: 'locked', message: refused(error) });
    return true;
  }, []);

  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <strong className="brand">GoTick</strong>
        {gate.kind === 'open' && (
          <nav aria-label="Views">
            <a href={href(['flows'])}>Flows</a>
            <a href={href(['runs'])}>Runs</a>
          </nav>
        )}
        {gate.kind === 'open' && storedToken() && (
          <button
            type="button"
            className="link right"
            onClick={() => {
              setToken(null);
              void check();
            }}
          >
            Forget token
          </button>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {gate.kind === 'checking' && <p aria-live="polite">Connecting…</p>}
        {gate.kind === 'down' && (
          <div role="alert" className="error">
            <p>The GoTick API did not answer: {gate.message}</p>
            <button type="button" onClick={() => void check()}>
              Try again
            </button>
          </div>
        )}
        {gate.kind === 'locked' && <TokenPrompt message={gate.message} onToken={(token) => (setToken(token), check())} />}
        {gate.kind === 'open' && (
          <AuthLost.Provider value={authLost}>
            <Routes />
          </AuthLost.Provider>
        )}
      </main>
    </>
  );
}

function refused(err: ApiError): string {
  return err.status === 403
    ? 'The server refused access (403 Forbidden): this session or token may not use the GoTick routes; sign in to the app first.'
    : AUTH === 'guard'
      ? 'The server refused access (401 Unauthorized): sign in to the app first, or enter a token its guard accepts.'
      : 'The server refused this token (401 Unauthorized). Enter the value of http.token from the app’s GoTick options.';
}

function TokenPrompt({ message, onToken }: { message?: string; onToken: (token: string) => Promise<void> }) {
  const [token, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!token.trim()) return;
    setBusy(true);
    await onToken(token.trim());
    setBusy(false);
  };
  return (
    <form className="card token" onSubmit={submit} aria-labelledby="token-title">
      <h1 id="token-title">Sign in to GoTick</h1>
      <p>The GoTick routes of this app are protected. Enter the bearer token (http.token); it is kept in this tab only.</p>
      {message && (
        <p role="alert" className="error" data-testid="token-error">
          {message}
        </p>
      )}
      <label>
        Bearer token
        <input type="password" autoComplete="off" autoFocus value={token} onChange={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit" disabled={busy || !token.trim()}>
        {busy ? 'Checking…' : 'Open dashboard'}
      </button>
    </form>
  );
}

function Routes() {
  const { path, query } = useRoute();
  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path[0], path[1]]);
  if (path[0] === 'runs' && path[1]) return <RunView runId={path[1]} />;
  if (path[0] === 'runs') return <RunsView flowId={query.get('flowId') ?? ''} status={query.get('status') ?? ''} cursor={query.get('cursor') ?? undefined} />;
  return <FlowsView />;
}
