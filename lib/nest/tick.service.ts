import { Inject, Injectable } from '@nestjs/common';
import type { GoTickEngine } from '../engine';
import { EngineApi } from '../engine/engine-api';
import { GOTICK_ENGINE } from './gotick.constants';

/**
 * Starts and inspects runs. Inject it anywhere once GoTickModule is imported.
 * Its methods are GoTickApi's, answered by this app's engine (see EngineApi).
 * @public
 */
@Injectable()
export class TickService extends EngineApi {
  constructor(@Inject(GOTICK_ENGINE) protected readonly engine: GoTickEngine) {
    super();
  }
}
