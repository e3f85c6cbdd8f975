import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/**
 * How deep a trigger body may nest (objects and arrays, the body itself being
 * level 1). Deeper bodies are refused with 400 before validation, whose
 * recursion would otherwise overflow the stack and answer 500.
 * @public
 */
export const MAX_BODY_DEPTH = 100;

/** The media type of a request, lower-cased and without parameters; undefined when there is none. */
export function mediaType(request: IncomingMessage): string | undefined {
  const header = request.headers['content-type'];
  const type = header?.split(';')[0].trim().toLowerCase();
  return type ? type : undefined;
}

/** application/json, or a structured type on JSON such as application/vnd.api+json or application/merge-patch+json. */
export function isJsonType(type: string | undefined): boolean {
  return type === 'application/json' || (type !== undefined && /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type));
}

/** Whether the request carries a body at all (the test body-parser itself uses). */
export function hasBody(request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true;
  const length = Number(request.headers['content-length']);
  return Number.isFinite(length) && length > 0;
}

/** Reads and parses a JSON body the app's own parser left unread (a +json type its json() parser does not match). */
export async function readJson(request: IncomingMessage, limitBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new PayloadTooLargeException(`The request body is over ${limitBytes} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return parseJson(Buffer.concat(chunks).toString('utf8'));
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BadRequestException(`The request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Depth of the deepest object or array in `value`, counted without recursion, stopping once past `limit`. */
export function depthOver(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
