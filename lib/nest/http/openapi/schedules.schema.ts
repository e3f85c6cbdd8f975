import { ANY_JSON, DocOptional, DocProperty, DURATION } from './swagger';

// The schedule routes' answers (ScheduleView in lib/common/types/flow-options.ts), as classes for OpenAPI only.

const ISO_TIME = { type: 'string', format: 'date-time' };

/** A schedule's spec: a cron (in an IANA zone) or an interval. @public */
export class GoTickScheduleSpec {
  @DocOptional({ example: '0 6 * * *', description: 'A cron expression (or `every`).' }) cron?: string;
  @DocOptional({ example: 'Europe/Berlin', description: 'The IANA zone the cron is read in (default UTC).' }) tz?: string;
  @DocOptional({ ...DURATION, description: 'An interval instead of a cron.' }) every?: unknown;
  @DocOptional({ ...ANY_JSON, description: 'The input of every run it starts.' }) input?: unknown;
  @DocOptional({ enum: ['skip', 'allow'], description: "skip (default): no run for a slot while the previous one is live." }) overlap?: string;
}

/** The latest slot that started a run. @public */
export class GoTickScheduleLastRun {
  @DocProperty() runId!: string;
  @DocProperty(ISO_TIME) slotAt!: string;
}

/** A schedule as listSchedules shows it. @public */
export class GoTickScheduleView {
  @DocProperty() scheduleId!: string;
  @DocProperty() flowId!: string;
  @DocProperty({ type: () => GoTickScheduleSpec }) spec!: GoTickScheduleSpec;
  @DocProperty({ enum: ['code', 'runtime'], description: 'code: from @Flow(id, { schedule }); runtime: from schedule().' }) source!: string;
  @DocOptional({ ...ISO_TIME, description: 'When the next slot fires.' }) nextAt?: string;
  @DocOptional({ type: () => GoTickScheduleLastRun }) lastRun?: GoTickScheduleLastRun;
  @DocProperty({ minimum: 0, description: "Slots skipped because the previous run was still live." }) skipped!: number;
  @DocOptional({ ...ISO_TIME, description: 'When the latest skipped slot was due.' }) lastSkippedAt?: string;
}

/** GET /schedules. @public */
export class GoTickScheduleList {
  @DocProperty({ type: () => [GoTickScheduleView] }) schedules!: GoTickScheduleView[];
}

/** DELETE /schedules/:scheduleId. @public */
export class GoTickUnscheduled {
  @DocProperty() scheduleId!: string;
  @DocProperty({ enum: [true] }) removed!: boolean;
}
