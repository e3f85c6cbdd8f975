import { useVirtualizer } from '@tanstack/react-virtual';
import { useMemo, useRef, type KeyboardEvent } from 'react';
import { duration } from '../components/Json';
import { Status } from '../components/Status';
import type { Step } from '../types';
import { noteOf, rowsOf, segmentsOf, spanOf } from './timeline-model';

const ROW_PX = 30;

/**
 * Every step as a row with its bars on one time axis: attempts, failed
 * attempts and the backoffs between them, sleeps and signal waits. Steps of
 * one ctx.wait sit under a header and overlap in time. Only the rows in view
 * are in the DOM, so a run of 10,000 steps renders as fast as one of 10.
 */
export function Timeline({
  steps,
  runStart,
  runEnd,
  now,
  selected,
  onSelect,
}: {
  steps: Step[];
  runStart: number;
  runEnd: number;
  now: number;
  selected?: string;
  onSelect: (key: string) => void;
}) {
  const rows = useMemo(() => rowsOf(steps), [steps]);
  const [from, to] = useMemo(() => spanOf(runStart, runEnd, steps, now), [runStart, runEnd, steps, now]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: 15 });
  const pct = (t: number) => ((t - from) / (to - from)) * 100;

  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const keys = ['ArrowDown', 'ArrowUp', 'Home', 'End'];
    if (!keys.includes(event.key)) return;
    const current = Number((document.activeElement as HTMLElement | null)?.dataset.row ?? -1);
    const next =
      event.key === 'Home' ? 0 : event.key === 'End' ? rows.length - 1 : Math.max(0, Math.min(rows.length - 1, current + (event.key === 'ArrowDown' ? 1 : -1)));
    event.preventDefault();
    virtual.scrollToIndex(next);
    requestAnimationFrame(() => scroller.current?.querySelector<HTMLElement>(`[data-row="${next}"]`)?.focus());
  };

  return (
    <div className="timeline" role="grid" aria-label={`Timeline of ${steps.length} steps`} aria-rowcount={rows.length}>
      <div className="timeline-head" role="row">
        <span role="columnheader">Status</span>
        <span role="columnheader">Step</span>
        <span role="columnheader">Notes</span>
        <span role="columnheader" className="axis">
          <span>0</span>
          <span>{duration(to - from)}</span>
        </span>
      </div>
      <div className="timeline-body" ref={scroller} onKeyDown={onKey} data-testid="timeline" style={{ height: rows.length * ROW_PX + 2 }}>
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => {
            const row = rows[item.index];
            const style = { transform: `translateY(${item.start}px)`, height: ROW_PX };
            if (row.type === 'group') {
              return (
                <div key={`g${row.group}:${item.index}`} role="row" className="timeline-row group" style={style} data-row={item.index} tabIndex={-1}>
                  <span role="gridcell" className="group-label">
                    ∥ wait #{row.group}: {row.size} step{row.size === 1 ? '' : 's'} side by side, then joined
                  </span>
                </div>
              );
            }
            const { step } = row;
            return (
              <div
                key={step.key}
                role="row"
                aria-selected={selected === step.key}
                className={`timeline-row${step.waitGroup !== undefined ? ' in-group' : ''}${selected === step.key ? ' selected' : ''}`}
                style={style}
                data-row={item.index}
                data-step={step.key}
                tabIndex={0}
                onClick={() => onSelect(step.key)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    onSelect(step.key);
                  }
                }}
              >
                <span role="gridcell">
                  <Status status={step.status} />
                </span>
                <span role="gridcell" className="mono ellipsis" title={`${step.key} (${step.kind})`}>
                  {step.key} <span className="muted">{step.kind}</span>
                </span>
                <span role="gridcell" className="ellipsis note">
                  {noteOf(step)}
                </span>
                <span role="gridcell" className="bars">
                  {segmentsOf(step, now).map((segment, i) => (
                    <span
                      key={i}
                      className={`bar bar-${segment.kind}${segment.open ? ' open' : ''}`}
                      data-segment={segment.kind}
                      title={`${segment.label} (${duration(segment.to - segment.from)})`}
                      style={{ left: `${pct(segment.from)}%`, width: `${Math.max(pct(segment.to) - pct(segment.from), 0)}%` }}
                    >
                      <span className="sr-only">{segment.label}</span>
                    </span>
                  ))}
                </span>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
