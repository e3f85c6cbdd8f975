import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { useAuthLost } from '../auth-lost';
import { duration, Json, parseJson, time } from '../components/Json';
import { Status } from '../components/Status';
import { href, useNow, usePolled } from '../hooks';
import { LIVE, slotLabel, type Run, type SlotWait, type Step } from '../types';
import { Graph } from './Graph';
import { Timeline } from './Timeline';

/** A live run is read again every second; a finished one only after an action. */
const LIVE_MS = 1000;
/** Past this many steps the graph waits for a click: the timeline is the view that scales. */
const GRAPH_AUTO_STEPS = 300;

export function RunView({ runId }: { runId: string }) {
  const authLost = useAuthLost();
  const loaded = usePolled((signal) => api.run(runId, signal), (run) => (LIVE.has(run.status) ? LIVE_MS : 0), [runId]);
  const run = loaded.data;
  const live = run ? LIVE.has(run.status) : false;
  const now = useNow(500, live);
  const [selected, setSelected] = useState<string>();
  const [graphWanted, setGraphWanted] = useState(false);
  if (loaded.error && authLost(loaded.error)) return null;
  if (loaded.error && !run) {
    return (
      <section>
        <h1>Run {runId}</h1>
        <p role="alert" className="error">
          {loaded.error.message}
        </p>
        <a href={href(['runs'])}>All runs</a>
      </section>
    );
  }
  if (!run) return <p>Loading run {runId}…</p>;
  const runStart = Date.parse(run.startedAt ?? run.createdAt);
  const runEnd = run.finishedAt ? Date.parse(run.finishedAt) : live ? now : Date.parse(run.updatedAt);
  const children = run.steps.filter((step) => step.childRunId);
  // A signal wait's run timer is only a safety recheck: what the run waits for is the signal (or the wait's timeout).
  const waiting = run.steps.find((step) => step.status === 'waiting');
  const step = run.steps.find((s) => s.key === selected);
  return (
    <section aria-labelledby="run-title" className="run">
      <nav aria-label="Breadcrumb" className="crumbs">
        <a href={href(['runs'])}>Runs</a> › <a href={href(['runs'], { flowId: run.flowId })}>{run.flowId}</a> ›
      </nav>
      <h1 id="run-title">
        <span className="mono">{run.runId}</span> <Status status={run.status} />
      </h1>
      {loaded.error && <p role="alert" className="error">Refresh failed: {loaded.error.message}</p>}
      {run.waitingForSlot && <SlotWaitLine slot={run.waitingForSlot} />}
      <div className="run-top">
        <dl className="facts card">
          <dt>Flow</dt>
          <dd>{run.flowId}</dd>
          <dt>Created</dt>
          <dd>{time(run.createdAt)}</dd>
          <dt>Started</dt>
          <dd>{time(run.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{time(run.finishedAt)}</dd>
          {waiting ? (
            <>
              <dt>Waits for</dt>
              <dd>
                {waiting.childRunId ? (
                  <>
                    child run <a href={href(['runs', waiting.childRunId])} className="mono">{waiting.childRunId}</a> to end
                  </>
                ) : (
                  <>
                    signal “{waiting.waitingFor}”{waiting.wakeAt ? `, or its timeout at ${time(waiting.wakeAt)}` : ''}
                  </>
                )}
              </dd>
            </>
          ) : (
            run.wakeAt && (
              <>
                <dt>Wakes</dt>
                <dd>{time(run.wakeAt)}</dd>
              </>
            )
          )}
          <dt>Took</dt>
          <dd>{run.startedAt ? duration(runEnd - runStart) : '—'}</dd>
          <dt>Executions</dt>
          <dd>{run.executions}</dd>
          {run.retries ? (
            <>
              <dt>Retried</dt>
              <dd>{run.retries}×</dd>
            </>
          ) : null}
          {run.parentRunId && (
            <>
              <dt>Parent</dt>
              <dd>
                <a href={href(['runs', run.parentRunId])} className="mono">
                  {run.parentRunId}
                </a>
              </dd>
            </>
          )}
          {children.length > 0 && (
            <>
              <dt>Children</dt>
              <dd>
                <ul className="plain">
                  {children.map((child) => (
                    <li key={child.key}>
                      <a href={href(['runs', child.childRunId!])} className="mono">
                        {child.childRunId}
                      </a>{' '}
                      ({child.key}, <Status status={child.status} />)
                    </li>
                  ))}
                </ul>
              </dd>
            </>
          )}
        </dl>
        <Actions run={run} onDone={loaded.reload} />
      </div>
      <div className="io">
        <div className="card">
          <h2>Input</h2>
          <Json value={run.input} label="input" />
        </div>
        <div className="card">
          <h2>{run.error ? 'Error' : 'Output'}</h2>
          {run.error ? <ErrorBox error={run.error} /> : run.status === 'completed' ? <Json value={run.output} label="output" /> : <span className="muted">not finished</span>}
        </div>
      </div>
      {run.previousErrors && run.previousErrors.length > 0 && (
        <details className="card">
          <summary>Errors before retries ({run.previousErrors.length})</summary>
          <ul>
            {run.previousErrors.map((error, i) => (
              <li key={i}>
                {time(error.failedAt)} {error.stepKey ? `step ${error.stepKey}: ` : ''}
                {error.name}: {error.message}
              </li>
            ))}
          </ul>
        </details>
      )}
      <h2 id="steps-title">
        Steps <span className="muted">({run.steps.length.toLocaleString()})</span>
      </h2>
      {run.steps.length === 0 ? (
        <p className="muted">No step recorded yet.</p>
      ) : (
        <Timeline steps={run.steps} runStart={runStart} runEnd={runEnd} now={now} selected={selected} onSelect={(key) => setSelected(key === selected ? undefined : key)} />
      )}
      {step && <StepDetail step={step} onClose={() => setSelected(undefined)} />}
      <h2>Graph</h2>
      {run.steps.length <= GRAPH_AUTO_STEPS || graphWanted ? (
        <Graph run={run} />
      ) : (
        <button type="button" onClick={() => setGraphWanted(true)}>
          Show the graph of {run.steps.length.toLocaleString()} steps
        </button>
      )}
    </section>
  );
}

function ErrorBox({ error }: { error: { name: string; message: string; stack?: string; stepKey?: string } }) {
  return (
    <div className="error-box">
      <p>
        <strong>{error.name}</strong>: {error.message}
        {error.stepKey && <span className="muted"> (step {error.stepKey})</span>}
      </p>
      {error.stack && (
        <details>
          <summary>Stack</summary>
          <pre tabIndex={0}>{error.stack}</pre>
        </details>
      )}
    </div>
  );
}

function StepDetail({ step, onClose }: { step: Step; onClose: () => void }) {
  return (
    <section className="card step-detail" aria-labelledby="step-title" data-testid="step-detail">
      <header>
        <h3 id="step-title">
          <span className="mono">{step.key}</span> <Status status={step.status} />
        </h3>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </header>
      <dl className="facts">
        <dt>Kind</dt>
        <dd>{step.kind}</dd>
        <dt>Attempts</dt>
        <dd>{step.attempts}</dd>
        <dt>Started</dt>
        <dd>{time(step.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{time(step.finishedAt)}</dd>
        {step.wakeAt && (
          <>
            <dt>{step.kind === 'signal' ? 'Times out' : step.status === 'retrying' ? 'Next attempt' : 'Wakes'}</dt>
            <dd>{time(step.wakeAt)}</dd>
          </>
        )}
        {step.waitingFor && (
          <>
            <dt>Waits for</dt>
            <dd>signal “{step.waitingFor}”</dd>
          </>
        )}
        {step.waitGroup !== undefined && (
          <>
            <dt>Ran in</dt>
            <dd>wait #{step.waitGroup}</dd>
          </>
        )}
        {step.node && (
          <>
            <dt>Node</dt>
            <dd className="mono">{step.node}</dd>
          </>
        )}
        {step.childRunId && (
          <>
            <dt>Child run</dt>
            <dd>
              <a href={href(['runs', step.childRunId])}>{step.childRunId}</a>
            </dd>
          </>
        )}
      </dl>
      {'result' in step && (
        <>
          <h4>Result</h4>
          <Json value={step.result} label="result" open />
        </>
      )}
      {step.errors && step.errors.length > 0 && (
        <>
          <h4>Errors</h4>
          <ol className="errors">
            {step.errors.map((error) => (
              <li key={`${error.attempt}:${error.at}`}>
                attempt {error.attempt} at {time(error.at)}
                {error.startedAt ? ` (ran ${duration(Date.parse(error.at) - Date.parse(error.startedAt))})` : ''}
                <ErrorBox error={error} />
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}

/** Why a queued run has not started: its flow's concurrency cap is full. */
function SlotWaitLine({ slot }: { slot: SlotWait }) {
  return (
    <p className="slot-wait card" data-testid="slot-wait">
      <span aria-hidden="true">◌ </span>
      <strong>Waiting for a concurrency slot</strong> ({slotLabel(slot)}) since {time(slot.since)}: other runs hold every slot of the cap; this one starts
      as soon as one frees.
    </p>
  );
}

/** Cancel, retry and signal: each says what happened, and an error stays beside the button that caused it. */
function Actions({ run, onDone }: { run: Run; onDone: () => void }) {
  const authLost = useAuthLost();
  const live = LIVE.has(run.status);
  const waitingFor = run.steps.find((step) => step.status === 'waiting')?.waitingFor;
  const [reason, setReason] = useState('');
  const [signalName, setSignalName] = useState('');
  const [payload, setPayload] = useState('');
  const [busy, setBusy] = useState<string>();
  const [outcome, setOutcome] = useState<{ action: string; ok: boolean; text: string }>();
  const parsed = parseJson(payload);
  const act = async (action: string, call: () => Promise<string>) => {
    setBusy(action);
    setOutcome(undefined);
    try {
      setOutcome({ action, ok: true, text: await call() });
      onDone();
    } catch (err) {
      if (!authLost(err)) setOutcome({ action, ok: false, text: (err as Error).message });
    } finally {
      setBusy(undefined);
    }
  };
  const name = signalName || waitingFor || '';
  const sendSignal = (event: FormEvent) => {
    event.preventDefault();
    if (parsed.problem || !name) return;
    void act('signal', async () => {
      await api.signal(run.runId, name, parsed.value);
      return `Signal “${name}” sent.`;
    });
  };
  const message = (action: string) =>
    outcome?.action === action && (
      <p role={outcome.ok ? 'status' : 'alert'} className={outcome.ok ? 'ok' : 'error'} data-testid={`${action}-outcome`}>
        {outcome.text}
      </p>
    );
  return (
    <div className="card actions" aria-label="Actions">
      <h2>Actions</h2>
      {live && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act('cancel', async () => `Run is ${(await api.cancel(run.runId, reason || undefined)).status}.`);
          }}
        >
          <label>
            Reason (optional)
            <input value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} />
          </label>
          <button type="submit" className="danger" disabled={busy !== undefined}>
            {busy === 'cancel' ? 'Cancelling…' : 'Cancel run'}
          </button>
        </form>
      )}
      {(run.status === 'failed' || run.status === 'cancelled') && (
        <div>
          <button type="button" disabled={busy !== undefined} onClick={() => void act('retry', async () => `Run is ${(await api.retry(run.runId)).status} again.`)}>
            {busy === 'retry' ? 'Retrying…' : 'Retry run'}
          </button>
          <p className="muted">Completed steps keep their results; the failed step starts over.</p>
        </div>
      )}
      {live && (
        <form onSubmit={sendSignal}>
          <label>
            Signal name
            <input value={name} placeholder={waitingFor ?? 'e.g. approve'} maxLength={200} onChange={(e) => setSignalName(e.target.value)} />
          </label>
          <label>
            Payload (JSON, optional)
            <textarea rows={3} spellCheck={false} value={payload} aria-invalid={parsed.problem ? true : undefined} onChange={(e) => setPayload(e.target.value)} />
          </label>
          {parsed.problem && <p className="error">{parsed.problem}</p>}
          <button type="submit" disabled={busy !== undefined || !!parsed.problem || !name}>
            {busy === 'signal' ? 'Sending…' : 'Send signal'}
          </button>
        </form>
      )}
      {!live && run.status === 'completed' && <p className="muted">The run completed: nothing to do.</p>}
      {outcome && message(outcome.action)}
    </div>
  );
}
