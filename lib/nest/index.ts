export { GoTickModule } from './gotick.module';
export type { GoTickModuleExtras } from './gotick.module-definition';
export type { GoTickModuleOptions, GoTickHttpOptions } from './gotick.options';
export { Flow, OnFlowSuccess, OnFlowFail, OnFlowError, OnFlowCancel } from './decorators';
export { TickService } from './tick.service';
export type { GoTickInterceptorRef } from './interceptors.resolver';
export { RunTimingDto, TriggerRunDto } from './http/dto/trigger-run.dto';
export { TriggerBatchDto } from './http/dto/trigger-batch.dto';
export { ListRunsDto } from './http/dto/list-runs.dto';
export { MAX_BODY_DEPTH } from './http/json-body';
export { MAX_BATCH_RUNS } from './http/trigger-body.guard';
export { CancelRunDto } from './http/dto/cancel-run.dto';
export { SignalDto } from './http/dto/signal.dto';
export { ScheduleDto } from './http/dto/schedule.dto';
export { GoTickHealthIndicator, type GoTickHealthDetail, type GoTickHealthOptions } from './health/gotick.health-indicator';
export {
  GoTickErrorInfo,
  GoTickRunError,
  GoTickPreviousRunError,
  GoTickSlotWait,
  GoTickStepError,
  GoTickStepView,
  GoTickRunSummary,
  GoTickRunView,
  GoTickRunPage,
} from './http/openapi/run-view.schema';
export {
  GoTickTriggerResult,
  GoTickTriggerBatchResult,
  GoTickTriggerItem,
  GoTickTriggerBatchBody,
  GoTickFlowItem,
  GoTickFlowList,
  GoTickRunStatusResult,
  GoTickRunCounts,
  GoTickSignalAccepted,
  GoTickErrorBody,
} from './http/openapi/results.schema';
export { GoTickScheduleSpec, GoTickScheduleLastRun, GoTickScheduleView, GoTickScheduleList, GoTickUnscheduled } from './http/openapi/schedules.schema';
export { GOTICK_QUEUE, GOTICK_BULL_CONFIG_KEY, goTickQueueName } from './bullmq/gotick-queues';
