import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api';
import { useAuthLost } from '../auth-lost';
import { parseJson } from '../components/Json';
import { Status } from '../components/Status';
import { href, usePolled } from '../hooks';
import { RUN_STATUSES, type RunCounts, type Schedule } from '../types';

/** Whether the server has GET /schedules, learnt once per page load: a server without them answers 404 (the browser logs it). */
let schedulesRoute: boolean | undefined;

async function loadSchedules(): Promise<Schedule[]> {
  if (schedulesRoute === false) return [];
  try {
    const answer = await api.schedules();
    schedulesRoute = true;
    const list = Array.isArray(answer) ? answer : (answer as { schedules?: unknown[] })?.schedules;
    return (list ?? []) as Schedule[];
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      schedulesRoute = false;
      return [];
    }
    throw err;
  }
}

/** Every flow with its runs by status (refreshed every few seconds), its schedules, and a trigger form. */
export function FlowsView() {
  const authLost = useAuthLost();
  const flows = usePolled(
    async () => {
      const { flows } = await api.flows();
      const counts = await Promise.all(flows.map((flow) => api.counts(flow.id).catch(() => undefined)));
      return flows.map((flow, i) => ({ id: flow.id, counts: counts[i] }));
    },
    3000,
    [],
  );
  const schedules = usePolled(loadSchedules, 0, []);
  if (flows.error && authLost(flows.error)) return null;
  return (
    <section aria-labelledby="flows-title">
      <h1 id="flows-title">Flows</h1>
      {flows.error && <p role="alert" className="error">Could not load flows: {flows.error.message}</p>}
      {!flows.data && !flows.error && <p>Loading…</p>}
      {flows.data && flows.data.length === 0 && <p>This app registers no flows.</p>}
      {flows.data && flows.data.length > 0 && (
        <div className="table-wrap">
          <table className="flows">
            <thead>
              <tr>
                <th scope="col">Flow</th>
                <th scope="col">Runs</th>
                {RUN_STATUSES.map((status) => (
                  <th scope="col" key={status}>
                    <Status status={status} />
                  </th>
                ))}
                <th scope="col">Schedules</th>
              </tr>
            </thead>
            <tbody>
              {flows.data.map((flow) => (
                <FlowRow key={flow.id} id={flow.id} counts={flow.counts} schedules={(schedules.data ?? []).filter((s) => s.flowId === flow.id)} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {flows.data?.some((flow) => flow.counts && flow.counts.counted < flow.counts.total) && (
        <p className="muted" data-testid="counts-note">
          Statuses of a flow with more runs than {Math.max(...flows.data.map((flow) => flow.counts?.counted ?? 0)).toLocaleString()} are counted over its newest
          runs; the Runs column counts them all.
        </p>
      )}
      {flows.data && flows.data.length > 0 && <TriggerForm flowIds={flows.data.map((flow) => flow.id)} />}
    </section>
  );
}

function FlowRow({ id, counts, schedules }: { id: string; counts?: RunCounts; schedules: Schedule[] }) {
  return (
    <tr data-flow={id}>
      <th scope="row">
        <a href={href(['runs'], { flowId: id })}>{id}</a>
      </th>
      <td data-count="total" title={counts && counts.counted < counts.total ? `statuses counted over the newest ${counts.counted.toLocaleString()}` : undefined}>
        {counts ? counts.total.toLocaleString() : '…'}
      </td>
      {RUN_STATUSES.map((status) => (
        <td key={status} data-count={status}>
          {counts && counts.byStatus[status] > 0 ? (
            <a href={href(['runs'], { flowId: id, status })} aria-label={`${counts.byStatus[status]} ${status} runs of ${id}`}>
              {counts.byStatus[status].toLocaleString()}
            </a>
          ) : counts ? (
            <span className="muted">0</span>
          ) : (
            '…'
          )}
        </td>
      ))}
      <td>
        {schedules.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ul className="plain">
            {schedules.map((schedule, i) => (
              <li key={schedule.scheduleId ?? schedule.id ?? i}>
                <code>{schedule.scheduleId ?? schedule.id}</code> {describeSchedule(schedule)}
              </li>
            ))}
          </ul>
        )}
      </td>
    </tr>
  );
}

function describeSchedule(schedule: Schedule): string {
  const spec = (schedule.spec ?? schedule) as Schedule;
  const when = spec.cron ? `cron ${spec.cron}${spec.tz ? ` (${spec.tz})` : ''}` : spec.every ? `every ${spec.every}` : '';
  const next = schedule.nextAt ?? (schedule.next as string | undefined);
  return [when, next ? `next ${new Date(next).toLocaleString()}` : ''].filter(Boolean).join(' · ');
}

/** Starts a run with JSON input; the input is checked as it is typed, and nothing is sent while it does not parse. */
export function TriggerForm({ flowIds }: { flowIds: string[] }) {
  const authLost = useAuthLost();
  const [flowId, setFlowId] = useState(flowIds[0]);
  const [input, setInput] = useState('{}');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const parsed = parseJson(input);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (parsed.problem) return;
    setBusy(true);
    setFailure(undefined);
    try {
      const { runId } = await api.trigger(flowId, parsed.value);
      window.location.hash = href(['runs', runId]);
    } catch (err) {
      if (!authLost(err)) setFailure((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="trigger-title">
      <h2 id="trigger-title">Trigger a run</h2>
      <label>
        Flow
        <select aria-label="Flow" value={flowId} onChange={(e) => setFlowId(e.target.value)}>
          {flowIds.map((id) => (
            <option key={id}>{id}</option>
          ))}
        </select>
      </label>
      <label>
        Input (JSON)
        <textarea
          rows={5}
          spellCheck={false}
          value={input}
          aria-invalid={parsed.problem ? true : undefined}
          aria-describedby="trigger-input-problem"
          onChange={(e) => setInput(e.target.value)}
        />
      </label>
      <p id="trigger-input-problem" className="error" role="status">
        {parsed.problem ?? ''}
      </p>
      {failure && (
        <p role="alert" className="error" data-testid="trigger-error">
          Trigger failed: {failure}
        </p>
      )}
      <button type="submit" disabled={busy || !!parsed.problem}>
        {busy ? 'Starting…' : 'Trigger'}
      </button>
    </form>
  );
}
