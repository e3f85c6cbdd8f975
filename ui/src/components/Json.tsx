import { useState } from 'react';

/** A JSON value, folded by default when large; `label` names it for the toggle. */
export function Json({ value, label, open }: { value: unknown; label: string; open?: boolean }) {
  const text = value === undefined ? 'undefined' : JSON.stringify(value, null, 2);
  const long = text.length > 120 || text.includes('\n');
  const [shown, setShown] = useState(open ?? text.length <= 2000);
  if (!long) return <code className="json-inline">{text}</code>;
  return (
    <div className="json">
      <button type="button" className="link" aria-expanded={shown} onClick={() => setShown(!shown)}>
        {shown ? '▾' : '▸'} {label} ({text.length.toLocaleString()} chars)
      </button>
      {shown && <pre tabIndex={0}>{text}</pre>}
    </div>
  );
}

/** Parses JSON typed by the user: the value, or the parser's message to show beside the field. */
export function parseJson(text: string): { value?: unknown; problem?: string } {
  if (text.trim() === '') return { value: undefined };
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { problem: `Not valid JSON: ${(err as Error).message}` };
  }
}

export function time(iso?: string): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { hour12: false }) + `.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
