import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Names the Lua scripts behind EVALSHA calls. ioredis' defineCommand sends
 * EVALSHA <sha1 of the script text>, so hashing the same texts here tells
 * which script each traced call ran, without any hook in the engine.
 */
export interface ScriptNames {
  engine: Map<string, string>;
  bullmq: Map<string, string>;
}

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

function engineScripts(): Map<string, string> {
  const dir = join(__dirname, '..', '..', 'lib', 'engine', 'redis', 'lua');
  const names = new Map<string, string>();
  for (const file of readdirSync(dir)) {
    const match = /^(.+)-(?:\d+|n)\.lua$/.exec(file);
    if (match) names.set(sha1(readFileSync(join(dir, file), 'utf8')), match[1]);
  }
  return names;
}

function bullmqScripts(): Map<string, string> {
  const names = new Map<string, string>();
  try {
    // Not a public entry point of BullMQ: if a release moves it, calls are still counted, just unnamed.
    const scripts = require('bullmq/dist/cjs/scripts') as Record<string, { name: string; content: string }>;
    for (const script of Object.values(scripts)) names.set(sha1(script.content), script.name);
  } catch {
    /* unnamed is fine */
  }
  return names;
}

const known: ScriptNames = { engine: new Map(), bullmq: new Map() };

/** Re-reads the scripts on every call and keeps every version seen: the engine's Lua may change while a long bench runs. */
export function scriptNames(): ScriptNames {
  for (const [sha, name] of engineScripts()) known.engine.set(sha, name);
  if (known.bullmq.size === 0) for (const [sha, name] of bullmqScripts()) known.bullmq.set(sha, name);
  return known;
}
