import { IsOptional, IsString, MaxLength } from 'class-validator';
import { DocOptional } from '../openapi/swagger';

/** Body of POST /runs/:runId/cancel. @public */
export class CancelRunDto {
  /** Why: becomes the run's error message and the OnFlowCancel hooks' `reason`. */
  @DocOptional({ maxLength: 1000, description: "Why: becomes the run's error message and OnFlowCancel's reason." })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}
