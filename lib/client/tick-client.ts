import { runIdOf, type GoTickApi, type RunHandle, type TriggerArgs } from '../common/api';
import { flowIdOf, type FlowRef } from '../common/flow-ref';
import { toMs, type Duration } from '../common/duration';
import { pollUntilFinished } from '../common/poll-until-finished';
import { MAX_TIMER_MS } from '../common/timers';
import type { CancelOptions, CancelResult, ListRunsQuery, RetryResult, RunCounts, RunPage, RunView, ScheduleSpec, ScheduleView, TriggerItem, TriggerManyOptions, TriggerOptions, TriggerResult, WaitForRunOptions } from '../common/types';

/** @public */
export interface TickClientOptions {
  /** Where the routes are mounted, e.g. 'http://orders:3000/gotick'. */
  baseUrl: string;
  /** Bearer token, when the server uses `http.token`. */
  token?: string;
  /** Extra headers on every request (e.g. for your own guard). */
  headers?: Record<string, string>;
  /** Per-request timeout. Default '10s'. */
  timeout?: Duration;
  /** A fetch implementation; default the global fetch of Node 18+. */
  fetch?: typeof fetch;
}

/** An HTTP call that did not succeed: carries the status and the server's message. @public */
export class TickClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'TickClientError';
  }
}

/**
 * Triggers and reads runs of a remote app over its GoTick REST routes, for
 * services that do not share its Redis. Plain fetch, no Nest.
 * @public
 */
export class TickClient implements GoTickApi {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: TickClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = toMs(options.timeout ?? '10s', 'timeout');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  trigger<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, ...args: TriggerArgs<TInput>): Promise<TriggerResult<TInput, TOutput>>;
  trigger<TInput = unknown>(flowId: string, input?: TInput, options?: TriggerOptions): Promise<TriggerResult>;
  trigger(flow: string | FlowRef, input?: unknown, options: TriggerOptions = {}): Promise<TriggerResult> {
    return this.request('POST', `/flows/${encodeURIComponent(flowIdOf(flow))}/runs`, { input, ...options });
  }

  /**
   * Starts many runs in one request (POST /flows/:flowId/runs:batch), at most
   * 1,000 items (the server answers 413 beyond: split larger lists yourself,
   * with runIds so a resent part starts nothing twice).
   */
  triggerMany<TInput, TOutput>(flow: FlowRef<TInput, TOutput>, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<Array<TriggerResult<TInput, TOutput>>>;
  triggerMany<TInput = unknown>(flowId: string, items: ReadonlyArray<TriggerItem<TInput>>, options?: TriggerManyOptions): Promise<TriggerResult[]>;
  async triggerMany(flow: string | FlowRef, items: ReadonlyArray<TriggerItem>, options: TriggerManyOptions = {}): Promise<TriggerResult[]> {
    const { runs } = await this.request<{ runs: TriggerResult[] }>('POST', `/flows/${encodeURIComponent(flowIdOf(flow))}/runs:batch`, { runs: items, ...options });
    return runs;
  }

  /** The run, or null when the server answers 404. */
  async getRun<TInput = unknown, TOutput = unknown>(runId: string): Promise<RunView<TInput, TOutput> | null> {
    try {
      return await this.request('GET', `/runs/${encodeURIComponent(runId)}`);
    } catch (err) {
      if (err instanceof TickClientError && err.status === 404) return null;
      throw err;
    }
  }

  listRuns(query: ListRunsQuery = {}): Promise<RunPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.size ? `?${params}` : '';
    return this.request('GET', `/runs${search}`);
  }

  async listFlows(): Promise<string[]> {
    const { flows } = await this.request<{ flows: Array<{ id: string }> }>('GET', '/flows');
    return flows.map((flow) => flow.id);
  }

  /** Runs of a flow by status, among its newest 10,000, and in all (GET /flows/:flowId/counts). */
  countRuns(flowId: string): Promise<RunCounts> {
    return this.request('GET', `/flows/${encodeURIComponent(flowId)}/counts`);
  }

  /** Cancels a run (POST /runs/:runId/cancel); TickClientError with status 404 for an unknown run. */
  cancel(runId: string, options: CancelOptions = {}): Promise<CancelResult> {
    return this.request('POST', `/runs/${encodeURIComponent(runId)}/cancel`, { reason: options.reason });
  }

  /** Polls the run until it has finished; TickClientError with status 408 after `timeout` (default 30s). */
  waitForRun<TInput = unknown, TOutput = unknown>(run: RunHandle<TInput, TOutput>, options: WaitForRunOptions = {}): Promise<RunView<TInput, TOutput>> {
    const runId = runIdOf(run);
    const timeoutMs = toMs(options.timeout ?? '30s', 'timeout');
    return pollUntilFinished<RunView<TInput, TOutput>>({
      read: () => this.getRun<TInput, TOutput>(runId),
      statusOf: (run) => run.status,
      deadline: Date.now() + timeoutMs,
      notFound: () => new TickClientError(404, `Run "${runId}" not found.`),
      timedOut: (status) => new TickClientError(408, `Run "${runId}" did not finish within ${timeoutMs} ms (status: ${status}).`),
      firstPauseMs: 20,
      maxPauseMs: 500,
    });
  }

  /** Sends signal `name` to the run (POST /runs/:runId/signals/:name); resolves once it is stored. */
  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    await this.request('POST', `/runs/${encodeURIComponent(runId)}/signals/${encodeURIComponent(name)}`, { payload });
  }

  /** Queues a failed or cancelled run again (POST /runs/:runId/retry); 409 for any other status. */
  retry(runId: string): Promise<RetryResult> {
    return this.request('POST', `/runs/${encodeURIComponent(runId)}/retry`, {});
  }

  /** Creates or replaces a schedule (PUT /schedules/:scheduleId); 400 names a bad cron, zone or interval. */
  schedule<TInput, TOutput>(scheduleId: string, flow: FlowRef<TInput, TOutput>, spec: ScheduleSpec<TInput>): Promise<ScheduleView>;
  schedule(scheduleId: string, flowId: string, spec: ScheduleSpec): Promise<ScheduleView>;
  schedule(scheduleId: string, flow: string | FlowRef, spec: ScheduleSpec): Promise<ScheduleView> {
    return this.request('PUT', `/schedules/${encodeURIComponent(scheduleId)}`, { flowId: flowIdOf(flow), ...spec });
  }

  /** Removes a schedule (DELETE /schedules/:scheduleId); false when the server had none (404). */
  async unschedule(scheduleId: string): Promise<boolean> {
    try {
      await this.request('DELETE', `/schedules/${encodeURIComponent(scheduleId)}`);
      return true;
    } catch (err) {
      if (err instanceof TickClientError && err.status === 404) return false;
      throw err;
    }
  }

  /** Every schedule of the remote app (GET /schedules). */
  async listSchedules(): Promise<ScheduleView[]> {
    const { schedules } = await this.request<{ schedules: ScheduleView[] }>('GET', '/schedules');
    return schedules;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(Math.min(this.timeoutMs, MAX_TIMER_MS)),
      });
    } catch (err) {
      throw new TickClientError(0, `${method} ${this.baseUrl}${path} failed: ${(err as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (!response.ok) {
      const message = (parsed as { message?: unknown })?.message;
      const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : response.statusText;
      throw new TickClientError(response.status, `${method} ${path} -> ${response.status}: ${detail}`, parsed);
    }
    return parsed as T;
  }
}
