import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Body of POST /runs/:runId/cancel. @public */
export class CancelRunDto {
  /** Why: becomes the run's error message and the OnFlowCancel hooks' `reason`. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}
