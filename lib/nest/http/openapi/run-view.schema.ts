import { RUN_STATUSES } from '../../../common/types';
import { ANY_JSON, DocOptional, DocProperty } from './swagger';

// The JSON shapes of RunView and friends (lib/common/types/run-view.ts), as classes for OpenAPI only:
// test/nest/openapi.e2e-spec.ts holds them to what the routes really answer.

const STEP_KINDS = ['task', 'memo', 'status', 'sleep', 'array', 'async', 'signal', 'child'];
const STEP_STATUSES = ['completed', 'failed', 'retrying', 'sleeping', 'running', 'waiting'];
const ISO_TIME = { type: 'string', format: 'date-time' };

/** An error as stored: name, message, and (on a run or a step's latest error) the stack. @public */
export class GoTickErrorInfo {
  @DocProperty({ example: 'TypeError' }) name!: string;
  @DocProperty() message!: string;
  @DocOptional({ description: 'Trimmed to 30 lines; never in lists.' }) stack?: string;
}

/** A run's error: which step failed, when a step did. @public */
export class GoTickRunError extends GoTickErrorInfo {
  @DocOptional({ description: 'The step that failed, when a step did.' }) stepKey?: string;
}

/** An error a run had before `retry` cleared it. @public */
export class GoTickPreviousRunError extends GoTickRunError {
  @DocOptional({ ...ISO_TIME, description: 'When that attempt of the run finished.' }) failedAt?: string;
}

/** One failed attempt of a step. @public */
export class GoTickStepError extends GoTickErrorInfo {
  @DocProperty({ minimum: 1 }) attempt!: number;
  @DocProperty({ ...ISO_TIME, description: 'When the attempt failed.' }) at!: string;
  @DocOptional({ ...ISO_TIME, description: 'When the attempt began.' }) startedAt?: string;
}

/** One step of a run. @public */
export class GoTickStepView {
  @DocProperty({ example: 'charge' }) key!: string;
  @DocProperty({ enum: STEP_KINDS }) kind!: string;
  @DocProperty({ enum: STEP_STATUSES }) status!: string;
  @DocProperty({ minimum: 0 }) attempts!: number;
  @DocOptional({ ...ANY_JSON, description: "The step's result (completed steps)." }) result?: unknown;
  @DocOptional({ type: () => [GoTickStepError], description: 'Failed attempts.' }) errors?: GoTickStepError[];
  @DocOptional({ ...ISO_TIME, description: 'When a sleep or a retry backoff is due (a signal wait: its timeout).' }) wakeAt?: string;
  @DocOptional(ISO_TIME) finishedAt?: string;
  @DocOptional({ ...ISO_TIME, description: 'When its last attempt began (a sleep or signal wait: when the flow reached it).' }) startedAt?: string;
  @DocOptional({ description: 'The worker node running the attempt in flight.' }) node?: string;
  @DocOptional({ description: 'The signal name a waiting step waits for.' }) waitingFor?: string;
  @DocOptional({ minimum: 1, description: 'The ctx.wait the step ran in (1 for the run\'s first): equal numbers ran side by side.' }) waitGroup?: number;
  @DocOptional({ description: 'The run a child step started (ctx.child, ctx.startChild).' }) childRunId?: string;
}

/** Why a queued run has not started: it waits in its flow's concurrency line. @public */
export class GoTickSlotWait {
  @DocProperty({ example: 'customer-42', description: "The concurrency key the run waits on (what the flow's concurrency key returned); '' for a cap without a key (one line for the whole flow)." })
  key!: string;
  @DocProperty({ ...ISO_TIME, description: 'When the run joined the line.' }) since!: string;
}

/** A run without its steps, input and output, as lists show it. @public */
export class GoTickRunSummary {
  @DocProperty() runId!: string;
  @DocProperty({ example: 'orders/close' }) flowId!: string;
  @DocProperty({ enum: RUN_STATUSES }) status!: string;
  @DocOptional({ type: () => GoTickRunError, description: "Why the run failed (without stack in lists)." }) error?: GoTickRunError;
  @DocProperty(ISO_TIME) createdAt!: string;
  @DocProperty(ISO_TIME) updatedAt!: string;
  @DocOptional(ISO_TIME) startedAt?: string;
  @DocOptional(ISO_TIME) finishedAt?: string;
  @DocOptional({ ...ISO_TIME, description: 'When a sleeping run wakes up next.' }) wakeAt?: string;
  @DocProperty({ minimum: 0, description: 'How many times a worker picked the run up.' }) executions!: number;
  @DocOptional({ minimum: 0, description: 'How many times retry sent the run back to the queue.' }) retries?: number;
  @DocOptional({ description: 'The schedule that started the run.' }) scheduleId?: string;
  @DocOptional({ ...ISO_TIME, description: "The schedule slot the run is for." }) slotAt?: string;
  @DocOptional({ description: 'The run that started this one with ctx.child or ctx.startChild.' }) parentRunId?: string;
  @DocOptional({ description: "The parent's step that started this run." }) parentStepKey?: string;
  @DocOptional({ type: () => [GoTickPreviousRunError], description: 'Errors before the last retry, oldest first (at most 10).' })
  previousErrors?: GoTickPreviousRunError[];
  @DocOptional({
    type: () => GoTickSlotWait,
    description: "Present only on a queued run that waits for a slot of its flow's concurrency cap (not on one no worker has picked up yet); gone once it starts.",
  })
  waitingForSlot?: GoTickSlotWait;
}

/** A run with its input, output and every step: GET /runs/:runId. @public */
export class GoTickRunView extends GoTickRunSummary {
  @DocOptional({ ...ANY_JSON, description: "The run's input." }) input?: unknown;
  @DocOptional({ ...ANY_JSON, description: "The flow's return value (completed runs)." }) output?: unknown;
  @DocProperty({ type: () => [GoTickStepView] }) steps!: GoTickStepView[];
}

/** A page of runs, newest first: GET /runs. @public */
export class GoTickRunPage {
  @DocProperty({ type: () => [GoTickRunSummary] }) runs!: GoTickRunSummary[];
  @DocOptional({ description: 'Pass back as `cursor` to read the next page; absent on the last page.' }) nextCursor?: string;
}
