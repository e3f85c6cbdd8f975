import { Allow, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { ANY_JSON, DocOptional, DocProperty, DURATION } from '../openapi/swagger';

/**
 * Body of PUT /schedules/:scheduleId (besides `input`, which is any JSON and
 * set aside as sent). The engine checks cron, zone and interval, and names
 * what is wrong in a 400.
 * @public
 */
export class ScheduleDto {
  @DocProperty({ maxLength: 200, example: 'reports/daily', description: 'The flow each slot starts a run of.' })
  @IsString()
  @MaxLength(200)
  flowId!: string;

  /** A cron expression, e.g. '0 6 * * *'. */
  @DocOptional({ maxLength: 200, example: '0 6 * * *', description: 'A cron expression (give either cron or every).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cron?: string;

  /** The IANA zone the cron is read in, e.g. 'Europe/Berlin' (default UTC). */
  @DocOptional({ maxLength: 100, example: 'Europe/Berlin', description: 'The IANA zone the cron is read in (default UTC).' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  tz?: string;

  /** An interval instead of a cron: milliseconds or '10m', '1h'. */
  @DocOptional({ ...DURATION, description: 'An interval instead of a cron.' })
  @Allow()
  every?: string | number;

  @DocOptional({ enum: ['skip', 'allow'], description: 'skip (default): no run for a slot while the previous one is live.' })
  @IsOptional()
  @IsIn(['skip', 'allow'])
  overlap?: 'skip' | 'allow';
}

/** For the OpenAPI document only: the body as sent, `input` included. */
export class ScheduleBodyDoc extends ScheduleDto {
  @DocOptional({ ...ANY_JSON, description: 'The input of every run the schedule starts.' }) input?: unknown;
}
