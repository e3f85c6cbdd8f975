import { Allow } from 'class-validator';
import { ANY_JSON, DocOptional } from '../openapi/swagger';

/** Body of POST /runs/:runId/signals/:name. @public */
export class SignalDto {
  /** What `ctx.waitForSignal` returns as `payload`: any JSON value (null when left out). */
  @DocOptional({ ...ANY_JSON, description: 'What ctx.waitForSignal returns as payload (null when left out).' })
  @Allow()
  payload?: unknown;
}
