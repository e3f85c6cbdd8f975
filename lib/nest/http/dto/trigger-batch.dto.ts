import { IsOptional, Validate } from 'class-validator';
import type { Duration } from '../../../common/duration';
import { IsDuration } from './trigger-run.dto';

/** The shared fields of POST /flows/:flowId/runs:batch (its `runs` are set aside by TriggerBatchBodyGuard). @public */
export class TriggerBatchDto {
  /** Start every run later, unless its item has its own delay. */
  @IsOptional()
  @Validate(IsDuration)
  delay?: Duration;

  /** Whole-run timeout of every run, unless its item has its own. */
  @IsOptional()
  @Validate(IsDuration)
  timeout?: Duration;
}
