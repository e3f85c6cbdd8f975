import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { RUN_STATUSES, type RunStatus } from '../../../common/types';

/** Query of GET /runs. @public */
export class ListRunsDto {
  @IsOptional()
  @IsString()
  flowId?: string;

  @IsOptional()
  @IsIn(RUN_STATUSES)
  status?: RunStatus;

  /** Only the child runs this run started (ctx.child, ctx.startChild). */
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,200}$/, { message: 'parentRunId must be a run id (1-200 characters of A-Z a-z 0-9 _ . -)' })
  parentRunId?: string;

  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  /** The nextCursor of a previous page; its form is checked by the engine. */
  @IsOptional()
  @IsString()
  @MaxLength(240, { message: 'cursor must be the nextCursor of a previous page' })
  cursor?: string;
}
