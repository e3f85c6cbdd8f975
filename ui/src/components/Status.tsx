/** Status as icon and word: readable without colour, and by screen readers (the icon is decoration). */
const ICONS: Record<string, string> = {
  queued: '◌',
  running: '▶',
  sleeping: '☾',
  completed: '✓',
  failed: '✕',
  cancelled: '⊘',
  retrying: '↻',
  waiting: '✉',
};

export function Status({ status }: { status: string }) {
  return (
    <span className={`status status-${status}`} data-status={status}>
      <span aria-hidden="true" className="status-icon">
        {ICONS[status] ?? '•'}
      </span>
      {status}
    </span>
  );
}
