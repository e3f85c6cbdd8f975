export { GoTickModule } from './gotick.module';
export type { GoTickModuleExtras } from './gotick.module-definition';
export type { GoTickModuleOptions, GoTickHttpOptions } from './gotick.options';
export { Flow, OnFlowSuccess, OnFlowFail, OnFlowError } from './decorators';
export { TickService } from './tick.service';
export { TriggerRunDto } from './http/dto/trigger-run.dto';
export { ListRunsDto } from './http/dto/list-runs.dto';
export { MAX_BODY_DEPTH } from './http/json-body';
export { SignalDto } from './http/dto/signal.dto';
