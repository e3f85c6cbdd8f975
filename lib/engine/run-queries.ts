import { GoTickError } from '../common/errors';
import { RUN_STATUSES, type ListRunsQuery, type RunCounts, type RunPage } from '../common/types';
import type { RunRecord, RunStore } from './ports';
import { CURSOR } from './redis/run-index';
import { isRunId } from './run-id';
import { toRunSummary } from './run-view';

const MAX_LIST_LIMIT = 200;
/** countRuns reads the statuses of this many of a flow's newest runs at most: one HGET each. */
const COUNT_SAMPLE = 10_000;

/**
 * listRuns: the query is checked before the store is asked for (`store`
 * throws while the engine is not started), so a bad query says so first.
 * Without a flow id the list spans `allFlowIds`, every flow this node knows.
 */
export async function listRuns(store: () => RunStore, query: ListRunsQuery, allFlowIds: () => string[]): Promise<RunPage> {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new GoTickError(`listRuns: limit must be an integer from 1 to ${MAX_LIST_LIMIT}; got ${limit}.`);
  }
  if (query.status !== undefined && !RUN_STATUSES.includes(query.status)) {
    throw new GoTickError(`listRuns: unknown status "${query.status}"; use one of ${RUN_STATUSES.join(', ')}.`);
  }
  if (query.cursor !== undefined && (typeof query.cursor !== 'string' || !CURSOR.test(query.cursor))) {
    throw new GoTickError(`listRuns: malformed cursor "${query.cursor}"; pass back the nextCursor of a previous page.`);
  }
  let page: { runs: RunRecord[]; nextCursor?: string };
  if (query.parentRunId !== undefined) {
    if (!isRunId(query.parentRunId)) throw new GoTickError(`listRuns: parentRunId ${JSON.stringify(query.parentRunId)} is not a run id.`);
    const flowIds = query.flowId !== undefined ? [query.flowId] : undefined;
    page = await store().listChildren(query.parentRunId, { flowIds, status: query.status, cursor: query.cursor, limit });
  } else {
    const flowIds = query.flowId !== undefined ? [query.flowId] : allFlowIds();
    page = await store().list({ flowIds, status: query.status, cursor: query.cursor, limit });
  }
  return { runs: page.runs.map(toRunSummary), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

/** countRuns of a flow the caller checked: its runs by status, read from its newest 10,000. */
export async function countRuns(store: RunStore, flowId: string): Promise<RunCounts> {
  const { total, statuses, counted } = await store.counts(flowId, COUNT_SAMPLE);
  const byStatus = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as RunCounts['byStatus'];
  for (const status of statuses) if (status in byStatus) byStatus[status]++;
  return { flowId, total, counted, byStatus };
}
