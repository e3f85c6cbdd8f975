import {
  BadRequestException,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Inject,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { GOTICK_MODULE_OPTIONS } from '../gotick.constants';
import type { GoTickModuleOptions } from '../gotick.options';
import { depthOver, hasBody, isJsonType, MAX_BODY_DEPTH, mediaType, parseJson, readJson } from './json-body';

/** Where the guard leaves the run input, untouched by class-transformer. */
const RAW_INPUT = Symbol('gotick:raw-input');

type TriggerRequest = IncomingMessage & { body?: unknown; [RAW_INPUT]?: unknown };

/** Body fields that could never be data of a trigger and that object handling would drop silently. */
const FORBIDDEN_FIELDS = ['__proto__', 'constructor', 'prototype'];

/**
 * Makes sure a trigger starts from exactly the body that was sent, or not at all:
 * - a body with a non-JSON content type (or none) is refused with 415, since its
 *   input, runId (the idempotency key) and delay would be lost;
 * - `application/*+json` bodies are parsed as JSON when the app's parser left them;
 * - bodies nested deeper than MAX_BODY_DEPTH are refused with 400;
 * - the input is set aside before validation, so keys like "__proto__" or
 *   "constructor" inside it stay data instead of being dropped.
 */
@Injectable()
export class TriggerBodyGuard implements CanActivate {
  private readonly limitBytes: number;
  /** What the body must be, for the 400 that refuses anything else. */
  protected readonly bodyShape: string = 'trigger body must be a JSON object: { "input"?: ..., "runId"?: ..., "delay"?: ... }';

  constructor(@Inject(GOTICK_MODULE_OPTIONS) options: GoTickModuleOptions) {
    // The engine refuses inputs over maxPayloadBytes by name; reading a little more lets it say so.
    this.limitBytes = (options.limits?.maxPayloadBytes ?? 1024 * 1024) + 64 * 1024;
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<TriggerRequest>();
    if (!hasBody(request)) return true;
    const type = mediaType(request);
    if (!isJsonType(type)) {
      throw new UnsupportedMediaTypeException(
        `A trigger body must be JSON (Content-Type: application/json); got ${type ? `"${type}"` : 'no Content-Type'}. ` +
          'Nothing was started: resend the body as JSON.',
      );
    }
    let body = request.body;
    if (typeof body === 'string' || Buffer.isBuffer(body)) body = parseJson(body.toString());
    else if (body === undefined && request.readable && !request.readableEnded) body = await readJson(request, this.limitBytes);
    if (body === undefined) return true;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new BadRequestException(`A ${this.bodyShape}.`);
    }
    if (depthOver(body, MAX_BODY_DEPTH)) {
      throw new BadRequestException(`The request body is nested more than ${MAX_BODY_DEPTH} levels deep (the limit for a trigger body); flatten the input.`);
    }
    const own = Object.keys(body);
    const odd = own.filter((key) => FORBIDDEN_FIELDS.includes(key));
    if (odd.length) throw new BadRequestException(`The trigger body may not hold the field(s) ${odd.map((k) => `"${k}"`).join(', ')}.`);
    const { input, ...fields } = body as Record<string, unknown>;
    request[RAW_INPUT] = input;
    request.body = fields;
    return true;
  }
}

/** The trigger's input exactly as parsed from JSON (set aside by TriggerBodyGuard). */
export const TriggerInput = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest<TriggerRequest>();
  return RAW_INPUT in request ? request[RAW_INPUT] : (request.body as { input?: unknown } | undefined)?.input;
});

const BATCH_ITEM_FIELDS = ['input', 'runId', 'delay', 'timeout'];
const BATCH_SHAPE = 'batch body must be { "runs": [{ "input"?, "runId"?, "delay"?, "timeout"? }, ...], "delay"?, "timeout"? }';

/** Where TriggerBatchBodyGuard leaves the batch's items, untouched by class-transformer. */
const RAW_ITEMS = Symbol('gotick:raw-items');

/**
 * Most runs one POST /flows/:flowId/runs:batch may start (413 beyond).
 * @public
 */
export const MAX_BATCH_RUNS = 1000;

/**
 * The batch form of TriggerBodyGuard: the same JSON checks on the whole body,
 * then its `runs` array is set aside as parsed (each item's input stays data)
 * and checked for shape and size; only the shared `delay` and `timeout` go on
 * to validation.
 */
@Injectable()
export class TriggerBatchBodyGuard extends TriggerBodyGuard {
  protected readonly bodyShape = BATCH_SHAPE;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    await super.canActivate(context);
    const request = context.switchToHttp().getRequest<TriggerRequest & { [RAW_ITEMS]?: unknown[] }>();
    const fields = (request.body ?? {}) as Record<string, unknown>;
    const { runs, ...shared } = fields;
    // The base guard set aside a field named input, which a batch body does not have.
    if (request[RAW_INPUT] !== undefined) throw new BadRequestException('A batch body has no "input": put each run\'s input in its item of "runs".');
    if (!Array.isArray(runs)) {
      throw new BadRequestException(`A ${BATCH_SHAPE}.`);
    }
    if (runs.length > MAX_BATCH_RUNS) {
      throw new PayloadTooLargeException(`A batch starts at most ${MAX_BATCH_RUNS} runs; got ${runs.length}. Split it, with runIds so a resent part starts nothing twice.`);
    }
    runs.forEach((item: unknown, i) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        throw new BadRequestException(`runs[${i}] must be an object { "input"?, "runId"?, "delay"?, "timeout"? }.`);
      }
      const odd = Object.keys(item).filter((key) => !BATCH_ITEM_FIELDS.includes(key));
      if (odd.length) throw new BadRequestException(`runs[${i}] has unknown field(s) ${odd.map((k) => `"${k}"`).join(', ')}; allowed: ${BATCH_ITEM_FIELDS.join(', ')}.`);
    });
    request[RAW_ITEMS] = runs;
    request.body = shared;
    return true;
  }
}


/** The batch's items exactly as parsed from JSON (set aside by TriggerBatchBodyGuard). */
export const TriggerItems = createParamDecorator((_data: unknown, context: ExecutionContext): unknown[] => {
  const request = context.switchToHttp().getRequest<TriggerRequest & { [RAW_ITEMS]?: unknown[] }>();
  return request[RAW_ITEMS] ?? [];
});
