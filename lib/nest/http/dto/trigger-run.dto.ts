import { Allow, IsOptional, IsString, Matches, MaxLength, Validate, ValidatorConstraint, type ValidatorConstraintInterface } from 'class-validator';
import { toMs, type Duration } from '../../../common/duration';

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

  defaultMessage(): string {
    return "delay must be milliseconds (a number >= 0) or a duration string like '30s', '5m', '2h'";
  }
}

/** Body of POST /flows/:flowId/runs. @public */
export class TriggerRunDto {
  /** The flow's input: any JSON value. */
  @Allow()
  input?: unknown;

  @IsOptional()
  @Validate(IsDuration)
  delay?: Duration;

  /** Whole-run timeout, over the flow's own. */
  @IsOptional()
  @Validate(IsDuration)
  timeout?: Duration;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'runId may only contain A-Z a-z 0-9 _ . -' })
  runId?: string;
}
