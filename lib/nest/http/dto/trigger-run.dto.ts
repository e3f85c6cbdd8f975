import {
  Allow,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Validate,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { toMs, type Duration } from '../../../common/duration';
import { ANY_JSON, DocOptional, DURATION } from '../openapi/swagger';

@ValidatorConstraint({ name: 'isDuration' })
export class IsDuration implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    if (typeof value !== 'number' && typeof value !== 'string') return false;
    try {
      toMs(value as Duration);
      return true;
    } catch {
      return false;
    }
  }

  defaultMessage(args?: ValidationArguments): string {
    return `${args?.property ?? 'duration'} must be milliseconds (a number >= 0) or a duration string like '30s', '5m', '2h'`;
  }
}

/** The timing fields every trigger body shares (one run, or a batch's defaults). @public */
export class RunTimingDto {
  /** Start the run later. */
  @DocOptional({ ...DURATION, description: 'Start the run later.' })
  @IsOptional()
  @Validate(IsDuration)
  delay?: Duration;

  /** Whole-run timeout, over the flow's own. */
  @DocOptional({ ...DURATION, description: "Whole-run timeout, over the flow's own." })
  @IsOptional()
  @Validate(IsDuration)
  timeout?: Duration;
}

/** Body of POST /flows/:flowId/runs. @public */
export class TriggerRunDto extends RunTimingDto {
  /** The flow's input: any JSON value. */
  @DocOptional({ ...ANY_JSON, description: "The flow's input: any JSON value." })
  @Allow()
  input?: unknown;

  @DocOptional({ maxLength: 200, pattern: '^[A-Za-z0-9_.-]+$', description: 'Your own id: a second trigger with it starts nothing (idempotent).' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'runId may only contain A-Z a-z 0-9 _ . -' })
  runId?: string;
}
