import { Allow, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';

/**
 * Body of PUT /schedules/:scheduleId (besides `input`, which is any JSON and
 * set aside as sent). The engine checks cron, zone and interval, and names
 * what is wrong in a 400.
 * @public
 */
export class ScheduleDto {
  @IsString()
  @MaxLength(200)
  flowId!: string;

  /** A cron expression, e.g. '0 6 * * *'. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cron?: string;

  /** The IANA zone the cron is read in, e.g. 'Europe/Berlin' (default UTC). */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tz?: string;

  /** An interval instead of a cron: milliseconds or '10m', '1h'. */
  @Allow()
  every?: string | number;

  @IsOptional()
  @IsIn(['skip', 'allow'])
  overlap?: 'skip' | 'allow';
}
