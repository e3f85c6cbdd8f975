import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient } from './connection';

const LUA_DIR = join(__dirname, 'lua');

/**
 * Defines the named scripts of lua/<name>-<numberOfKeys>.lua on a client as
 * ioredis commands (EVALSHA with EVAL fallback), under the camelCase name.
 * Defining a script again is harmless, so each store loads the ones it calls.
 */
export function defineScriptFiles<N extends string>(client: RedisClient, files: Record<N, string>): RedisClient & Record<N, (...args: (string | number)[]) => Promise<unknown>> {
  for (const [name, file] of Object.entries<string>(files)) {
    const match = /^.+-(\d+)\.lua$/.exec(file);
    if (!match) throw new Error(`Lua file name "${file}" must end in -<numberOfKeys>.lua`);
    client.defineCommand(name, { numberOfKeys: Number(match[1]), lua: readFileSync(join(LUA_DIR, file), 'utf8') });
  }
  return client as RedisClient & Record<N, (...args: (string | number)[]) => Promise<unknown>>;
}
