import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, useState, type KeyboardEvent } from 'react';
import { api } from '../api';
import { useAuthLost } from '../auth-lost';
import { duration, time } from '../components/Json';
import { Status } from '../components/Status';
import { href, usePolled } from '../hooks';
import { RUN_STATUSES, slotLabel, type RunSummary } from '../types';

const PAGE = 100;
/** The page shown is read again this often (or less, when it is slow to read): a new run or a status change shows within a second. */
const LIVE_MS = 500;
const ROW_PX = 36;

/** Runs newest first, filtered by flow and status, one page (PAGE runs) at a time by cursor, kept live. */
export function RunsView({ flowId, status, cursor }: { flowId: string; status: string; cursor?: string }) {
  const authLost = useAuthLost();
  const flows = usePolled(() => api.flows(), 0, []);
  const polled = usePolled(
    async (signal) => {
      const started = performance.now();
      return { page: await api.runs({ flowId, status, cursor, limit: PAGE }, signal), tookMs: performance.now() - started };
    },
    // A page that is slow to read (a rare status among many runs) is read less often, to spare Redis.
    ({ tookMs }) => Math.max(LIVE_MS, tookMs * 5),
    [flowId, status, cursor],
  );
  const page = { data: polled.data?.page, error: polled.error };
  // Cursors of the pages before this one, for "Previous" (a cursor only reads on).
  const [trail, setTrail] = useState<Array<string | undefined>>([]);
  if (page.error && authLost(page.error)) return null;
  const go = (next: { flowId?: string; status?: string; cursor?: string }) => {
    window.location.hash = href(['runs'], { flowId, status, ...next });
  };
  return (
    <section aria-labelledby="runs-title">
      <h1 id="runs-title">Runs</h1>
      <div className="filters" role="search">
        <label>
          Flow
          <select
            aria-label="Flow"
            value={flowId}
            onChange={(e) => {
              setTrail([]);
              go({ flowId: e.target.value, cursor: undefined });
            }}
          >
            <option value="">all flows</option>
            {flows.data?.flows.map((flow) => (
              <option key={flow.id} value={flow.id}>
                {flow.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select
            aria-label="Status"
            value={status}
            onChange={(e) => {
              setTrail([]);
              go({ status: e.target.value, cursor: undefined });
            }}
          >
            <option value="">any status</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span className="live" aria-live="off" title="This page is read again every half second">
          ● live
        </span>
      </div>
      {page.error && <p role="alert" className="error">Could not load runs: {page.error.message}</p>}
      {!page.data && !page.error && <p>Loading…</p>}
      {page.data && page.data.runs.length === 0 && <p>No runs{flowId || status ? ' match these filters' : ' yet'}.</p>}
      {page.data && page.data.runs.length > 0 && <RunList runs={page.data.runs} />}
      <nav className="pager" aria-label="Pages">
        <button
          type="button"
          disabled={!cursor}
          onClick={() => {
            const previous = trail[trail.length - 1];
            setTrail(trail.slice(0, -1));
            go({ cursor: previous });
          }}
        >
          ← Newer
        </button>
        <span data-testid="page-size">{page.data ? `${page.data.runs.length} runs on this page` : ''}</span>
        <button
          type="button"
          disabled={!page.data?.nextCursor}
          onClick={() => {
            setTrail([...trail, cursor]);
            go({ cursor: page.data!.nextCursor });
          }}
        >
          Older →
        </button>
      </nav>
    </section>
  );
}

function RunList({ runs }: { runs: RunSummary[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const rows = useVirtualizer({ count: runs.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: 12 });
  // Arrow keys walk the rows; Enter follows the focused row's link.
  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const current = Number((document.activeElement as HTMLElement | null)?.dataset.index ?? -1);
    const next = Math.max(0, Math.min(runs.length - 1, current + (event.key === 'ArrowDown' ? 1 : -1)));
    event.preventDefault();
    rows.scrollToIndex(next);
    requestAnimationFrame(() => scroller.current?.querySelector<HTMLElement>(`[data-index="${next}"]`)?.focus());
  };
  return (
    <div className="list" role="table" aria-label="Runs, newest first" aria-rowcount={runs.length}>
      <div className="list-head" role="row">
        <span role="columnheader">Status</span>
        <span role="columnheader">Run</span>
        <span role="columnheader">Flow</span>
        <span role="columnheader">Created</span>
        <span role="columnheader">Took</span>
        <span role="columnheader">Error</span>
      </div>
      <div className="list-body" ref={scroller} onKeyDown={onKey} style={{ height: runs.length * ROW_PX + 2 }}>
        <div style={{ height: rows.getTotalSize(), position: 'relative' }}>
          {rows.getVirtualItems().map((item) => {
            const run = runs[item.index];
            return (
              <a
                key={run.runId}
                role="row"
                aria-rowindex={item.index + 1}
                className="list-row"
                data-index={item.index}
                data-run={run.runId}
                href={href(['runs', run.runId])}
                style={{ transform: `translateY(${item.start}px)`, height: ROW_PX }}
              >
                <span role="cell" className="status-cell">
                  <Status status={run.status} />
                  {run.waitingForSlot && (
                    <span className="slot-wait-tag" title={`Waiting for a concurrency slot (${slotLabel(run.waitingForSlot)}) since ${time(run.waitingForSlot.since)}`}>
                      {' · waiting for slot'}
                    </span>
                  )}
                </span>
                <span role="cell" className="mono ellipsis">
                  {run.runId}
                </span>
                <span role="cell" className="ellipsis">
                  {run.flowId}
                </span>
                <span role="cell">{time(run.createdAt)}</span>
                <span role="cell">{run.startedAt && run.finishedAt ? duration(Date.parse(run.finishedAt) - Date.parse(run.startedAt)) : ''}</span>
                <span role="cell" className="ellipsis error-text">
                  {run.error ? `${run.error.name}: ${run.error.message}` : ''}
                </span>
              </a>
            );
          })}
        </div>
      </div>
    </div>
  );
}
