import { RUN_STATUSES } from '../../../common/types';
import { ANY_JSON, DocOptional, DocProperty, DURATION } from './swagger';

// The other answers (and the batch body) of the REST routes, as classes for OpenAPI only.

/** What a trigger answers. @public */
export class GoTickTriggerResult {
  @DocProperty() runId!: string;
  @DocProperty({ description: 'false when a run with this runId already existed (nothing new started).' }) created!: boolean;
}

/** What a batch trigger answers: one result per item, in the order sent. @public */
export class GoTickTriggerBatchResult {
  @DocProperty({ type: () => [GoTickTriggerResult] }) runs!: GoTickTriggerResult[];
}

/** One run of a batch trigger. @public */
export class GoTickTriggerItem {
  @DocOptional({ ...ANY_JSON, description: "The run's input: any JSON value." }) input?: unknown;
  @DocOptional({ maxLength: 200, pattern: '^[A-Za-z0-9_.-]+$', description: 'Your own id: idempotency key of this run.' }) runId?: string;
  @DocOptional({ ...DURATION, description: 'Start this run later (over the batch delay).' }) delay?: unknown;
  @DocOptional({ ...DURATION, description: 'Whole-run timeout of this run (over the batch timeout).' }) timeout?: unknown;
}

/** Body of POST /flows/:flowId/runs:batch. @public */
export class GoTickTriggerBatchBody {
  @DocProperty({ type: () => [GoTickTriggerItem], maxItems: 1000 }) runs!: GoTickTriggerItem[];
  @DocOptional({ ...DURATION, description: 'Start every run later (items may set their own).' }) delay?: unknown;
  @DocOptional({ ...DURATION, description: 'Whole-run timeout of every run (items may set their own).' }) timeout?: unknown;
}

/** One registered flow. @public */
export class GoTickFlowItem {
  @DocProperty({ example: 'orders/close' }) id!: string;
}

/** GET /flows. @public */
export class GoTickFlowList {
  @DocProperty({ type: () => [GoTickFlowItem] }) flows!: GoTickFlowItem[];
}

/** What cancel and retry answer. @public */
export class GoTickRunStatusResult {
  @DocProperty() runId!: string;
  @DocProperty({ enum: RUN_STATUSES, description: 'cancelled / queued, or the status the run already had.' }) status!: string;
}

const STATUS_COUNTS = Object.fromEntries(RUN_STATUSES.map((status) => [status, { type: 'integer', minimum: 0 }]));

/** GET /flows/:flowId/counts: the flow's runs by status. @public */
export class GoTickRunCounts {
  @DocProperty() flowId!: string;
  @DocProperty({ minimum: 0, description: "Every run the flow's index holds." }) total!: number;
  @DocProperty({ minimum: 0, description: 'How many of the newest runs byStatus was read from (at most 10,000).' }) counted!: number;
  @DocProperty({ type: 'object', properties: STATUS_COUNTS, required: [...RUN_STATUSES], description: 'Runs among the newest `counted` in each status.' })
  byStatus!: Record<string, number>;
}

/** What a signal answers (202: stored in the run's mailbox). @public */
export class GoTickSignalAccepted {
  @DocProperty() runId!: string;
  @DocProperty() name!: string;
}

/** Every error answer: status, the error's name and what to do. @public */
export class GoTickErrorBody {
  @DocProperty({ example: 404 }) statusCode!: number;
  @DocProperty({ example: 'UnknownFlowError' }) error!: string;
  @DocProperty({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'What was wrong and what to do (validation: one line per field).' })
  message!: string | string[];
  @DocOptional({ description: 'On a trigger that failed with Redis down after choosing its id: retry with it.' }) runId?: string;
}
