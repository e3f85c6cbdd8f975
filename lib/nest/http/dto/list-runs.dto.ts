import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { RUN_STATUSES, type RunStatus } from '../../../common/types';
import { DocOptional } from '../openapi/swagger';

/** Query of GET /runs. @public */
export class ListRunsDto {
  @DocOptional({ description: 'Only runs of this flow (default: every flow this node has).' })
  @IsOptional()
  @IsString()
  flowId?: string;

  @DocOptional({ enum: RUN_STATUSES, description: 'Only runs in this status.' })
  @IsOptional()
  @IsIn(RUN_STATUSES)
  status?: RunStatus;

  /** Only the child runs this run started (ctx.child, ctx.startChild). */
  @DocOptional({ description: 'Only the child runs this run started (ctx.child, ctx.startChild), newest first.' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,200}$/, { message: 'parentRunId must be a run id (1-200 characters of A-Z a-z 0-9 _ . -)' })
  parentRunId?: string;

  @DocOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'Runs per page.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  /** The nextCursor of a previous page; its form is checked by the engine. */
  @DocOptional({ maxLength: 240, description: 'The nextCursor of a previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(240, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}
