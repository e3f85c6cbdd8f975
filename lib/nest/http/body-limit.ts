import { HttpStatus, Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GOTICK_HTTP_OPTIONS, GOTICK_MODULE_OPTIONS } from '../gotick.constants';
import type { GoTickHttpOptions, GoTickModuleOptions } from '../gotick.options';

/** What body-parser (raw-body) raises for a body over its limit. */
interface TooLargeError {
  type: 'entity.too.large';
  limit?: number;
  length?: number;
}

const isTooLarge = (err: unknown): err is TooLargeError => (err as { type?: unknown } | null)?.type === 'entity.too.large';

const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** The parser limit to suggest: maxPayloadBytes plus room for the envelope, in a unit body-parser reads. */
function suggestedLimit(maxPayloadBytes: number): string {
  return `${Math.ceil((maxPayloadBytes + 64 * 1024) / 1024)}kb`;
}

/** The 413 message: the two limits involved and the line that lines them up. */
export function bodyTooLargeMessage(parserLimit: number | undefined, maxPayloadBytes: number): string {
  const limit = parserLimit === undefined ? "the app's JSON body limit" : `the app's JSON body limit of ${parserLimit} bytes`;
  return (
    `The request body is over ${limit} (Express's default is 100 KB), so nothing was started. ` +
    `GoTick accepts inputs and signal payloads up to limits.maxPayloadBytes (${maxPayloadBytes} bytes): ` +
    `raise the app's limit to match, e.g. app.useBodyParser('json', { limit: '${suggestedLimit(maxPayloadBytes)}' }) in main.ts.`
  );
}

/**
 * Nest's body parser runs before any module's code, with Express's 100 KB
 * default, so a larger input never reaches the routes and Nest answers a bare
 * 413 and logs it as an error. For requests to the GoTick routes this answers
 * the documented `{ statusCode, error, message }` instead, naming both limits
 * and the fix, and logs nothing (the client sent too much; nothing failed
 * here). Express only: other platforms answer their own way.
 */
@Injectable()
export class BodyLimitResponder implements OnModuleInit {
  constructor(
    @Inject(GOTICK_HTTP_OPTIONS) private readonly http: GoTickHttpOptions | null,
    @Inject(GOTICK_MODULE_OPTIONS) private readonly options: GoTickModuleOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    if (!this.http || !adapter || adapter.getType() !== 'express') return;
    // Runs before Nest adds its own error handler (after init hooks), and after the parsers,
    // so the parser's error reaches this first; other errors and other routes pass on untouched.
    const routes = new RegExp(`(^|/)${escapeRegExp((this.http.path ?? 'gotick').replace(/^\/+|\/+$/g, ''))}(/|$)`);
    const maxPayloadBytes = this.options.limits?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD;
    adapter.use((err: unknown, req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: (err?: unknown) => void) => {
      const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
      if (!isTooLarge(err) || !routes.test(path) || res.headersSent) return next(err);
      const body = JSON.stringify({ statusCode: HttpStatus.PAYLOAD_TOO_LARGE, error: 'Payload Too Large', message: bodyTooLargeMessage(err.limit, maxPayloadBytes) });
      res.writeHead(HttpStatus.PAYLOAD_TOO_LARGE, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
