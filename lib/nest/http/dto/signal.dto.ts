import { Allow } from 'class-validator';

/** Body of POST /runs/:runId/signals/:name. @public */
export class SignalDto {
  /** What `ctx.waitForSignal` returns as `payload`: any JSON value (null when left out). */
  @Allow()
  payload?: unknown;
}
