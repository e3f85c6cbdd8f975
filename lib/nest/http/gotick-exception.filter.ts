import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import {
  GoTickError,
  PayloadTooLargeError,
  RedisUnavailableError,
  RunFinishedError,
  RunNotFoundError,
  RunNotRetriableError,
  SignalMailboxFullError,
  UnknownFlowError,
} from '../../engine';

function statusOf(error: GoTickError): number {
  if (error instanceof UnknownFlowError || error instanceof RunNotFoundError) return HttpStatus.NOT_FOUND;
  if (error instanceof PayloadTooLargeError) return HttpStatus.PAYLOAD_TOO_LARGE;
  if (error instanceof RunFinishedError || error instanceof RunNotRetriableError) return HttpStatus.CONFLICT;
  if (error instanceof SignalMailboxFullError) return HttpStatus.TOO_MANY_REQUESTS;
  if (error instanceof RedisUnavailableError) return HttpStatus.SERVICE_UNAVAILABLE;
  // The rest (InvalidRunIdError, InvalidSignalNameError, NotSerializableError, a bad limit or cursor) are the caller's input.
  return HttpStatus.BAD_REQUEST;
}

/** Turns the engine's named errors into HTTP statuses; the body carries name and message, never a stack. */
@Catch(GoTickError)
export class GoTickExceptionFilter implements ExceptionFilter {
  catch(error: GoTickError, host: ArgumentsHost): void {
    const status = statusOf(error);
    // A trigger that failed after choosing its run id names it: the run may exist, and retrying with it is safe.
    const runId = error instanceof RedisUnavailableError && error.runId !== undefined ? { runId: error.runId } : {};
    host.switchToHttp().getResponse().status(status).json({ statusCode: status, error: error.name, message: error.message, ...runId });
  }
}
