import { Injectable } from '@nestjs/common';
import { TriggerBodyGuard } from './trigger-body.guard';

/**
 * The JSON checks of a trigger body for PUT /schedules/:scheduleId: its
 * `input` is set aside as sent (read it with @TriggerInput()), the other
 * fields go on to validation.
 */
@Injectable()
export class ScheduleBodyGuard extends TriggerBodyGuard {
  protected readonly bodyShape = 'schedule body must be a JSON object: { "flowId", "cron" | "every", "tz"?, "input"?, "overlap"? }';
}
