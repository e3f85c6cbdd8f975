import { RunTimingDto } from './trigger-run.dto';

/**
 * The shared fields of POST /flows/:flowId/runs:batch: `delay` and `timeout`
 * apply to every run whose item has none of its own (its `runs` are set aside
 * by TriggerBatchBodyGuard).
 * @public
 */
export class TriggerBatchDto extends RunTimingDto {}
