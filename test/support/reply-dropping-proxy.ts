import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

/** Decides from a command's arguments (name first, as sent) whether its reply is the one to lose. */
export type CommandMatch = (args: string[]) => boolean;

/**
 * A TCP proxy between clients and redis-server on loopback that can lose a
 * reply on the wire: the command reaches Redis and runs, its reply never
 * reaches the client, and the client's connection is then cut. ioredis
 * reconnects and re-sends every command still unanswered, which is how a
 * flaky network makes a script run twice.
 */
export interface ReplyDroppingProxy {
  port: number;
  url: string;
  /**
   * Arms the proxy: the next command (on any connection) that `match`es is
   * forwarded, its reply dropped, and that connection cut. Resolves with the
   * command's arguments once the reply has been dropped.
   * With `downMs`, the proxy then refuses connections that long (as Redis
   * being away would), so ioredis gives up on the command instead of re-sending it.
   */
  dropReplyTo(match: CommandMatch, options?: { downMs?: number }): Promise<string[]>;
  /**
   * The next command that `match`es waits in the proxy until `action` has
   * run (say, Redis reaching its maxmemory), then goes on to Redis. Resolves
   * with the command's arguments once it has been let through.
   */
  beforeCommand(match: CommandMatch, action: () => Promise<void>): Promise<string[]>;
  /** Replies dropped so far. */
  readonly dropped: number;
  close(): Promise<void>;
}

/** Matches a call of one of our Lua scripts (lib/engine/redis/lua/<file>), by EVALSHA or EVAL. */
export function scriptCall(file: string): CommandMatch {
  const body = readFileSync(join(__dirname, '../../lib/engine/redis/lua', file), 'utf8');
  const sha = createHash('sha1').update(body).digest('hex');
  return (args) => {
    const name = args[0]?.toLowerCase();
    return (name === 'evalsha' && args[1] === sha) || (name === 'eval' && args[1] === body);
  };
}

const CRLF = Buffer.from('\r\n');

/** End offset of the RESP value starting at `at`, or -1 while it is incomplete. */
function valueEnd(buf: Buffer, at: number): number {
  if (at >= buf.length) return -1;
  const eol = buf.indexOf(CRLF, at);
  if (eol === -1) return -1;
  const type = String.fromCharCode(buf[at]);
  const head = buf.toString('latin1', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '$':
    case '=':
    case '!': {
      const len = Number(head);
      if (len < 0) return next;
      return buf.length >= next + len + 2 ? next + len + 2 : -1;
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const count = Number(head) * (type === '%' || type === '|' ? 2 : 1);
      let end = next;
      for (let i = 0; i < count; i++) {
        end = valueEnd(buf, end);
        if (end === -1) return -1;
      }
      return count < 0 ? next : end;
    }
    default:
      // + - : _ , # ( : one line.
      return next;
  }
}

/** The arguments of one request (an array of bulk strings, as every client sends). */
function requestArgs(buf: Buffer, at: number, end: number): string[] {
  const args: string[] = [];
  let eol = buf.indexOf(CRLF, at);
  let pos = eol + 2;
  while (pos < end) {
    eol = buf.indexOf(CRLF, pos);
    const len = Number(buf.toString('latin1', pos + 1, eol));
    args.push(buf.toString('utf8', eol + 2, eol + 2 + len));
    pos = eol + 2 + len + 2;
  }
  return args;
}

export async function startReplyDroppingProxy(redisPort: number): Promise<ReplyDroppingProxy> {
  let armed: { match: CommandMatch; resolve: (args: string[]) => void; downMs: number } | undefined;
  let held: { match: CommandMatch; action: () => Promise<void>; resolve: (args: string[]) => void } | undefined;
  let dropped = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer((client) => {
    const upstream = createConnection({ port: redisPort, host: '127.0.0.1' });
    sockets.add(client).add(upstream);
    let requestBuf = Buffer.alloc(0);
    let replyBuf = Buffer.alloc(0);
    let sent = 0;
    let answered = 0;
    // Index (in this connection's request stream) of the request whose reply is lost.
    let dropAt = -1;
    let dropping: { args: string[]; resolve: (args: string[]) => void; downMs: number } | undefined;

    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', cut);
    upstream.on('error', cut);

    let holding = false;
    const pump = () => {
      let at = 0;
      // Past the doomed request nothing more goes through: what follows it is re-sent after the reconnect.
      while (dropAt === -1 && !holding) {
        const end = valueEnd(requestBuf, at);
        if (end === -1) break;
        const request = requestBuf.subarray(at, end);
        const args = armed || held ? requestArgs(requestBuf, at, end) : [];
        at = end;
        if (held?.match(args)) {
          // Hold this request (and all after it) until the action has run, then let it through.
          const { action, resolve } = held;
          held = undefined;
          holding = true;
          void action().then(() => {
            holding = false;
            upstream.write(request);
            sent++;
            resolve(args);
            pump();
          });
          break;
        }
        upstream.write(request);
        if (armed?.match(args)) {
          dropAt = sent;
          dropping = { args, resolve: armed.resolve, downMs: armed.downMs };
          armed = undefined;
        }
        sent++;
      }
      requestBuf = dropAt === -1 ? requestBuf.subarray(at) : Buffer.alloc(0);
    };
    client.on('data', (chunk) => {
      if (dropAt !== -1) return;
      requestBuf = Buffer.concat([requestBuf, chunk]);
      pump();
    });

    upstream.on('data', (chunk) => {
      replyBuf = Buffer.concat([replyBuf, chunk]);
      let at = 0;
      for (;;) {
        const end = valueEnd(replyBuf, at);
        if (end === -1) break;
        if (answered === dropAt) {
          // The command ran on Redis; its reply is lost and the connection cut.
          dropped++;
          const { args, resolve, downMs } = dropping!;
          if (downMs > 0) void goDown(downMs).then(() => resolve(args));
          cut();
          if (downMs === 0) resolve(args);
          return;
        }
        client.write(replyBuf.subarray(at, end));
        answered++;
        at = end;
      }
      replyBuf = replyBuf.subarray(at);
    });
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  /** Stops listening (new connections are refused, open ones go on), then listens again on the same port. */
  async function goDown(ms: number): Promise<void> {
    server.close();
    await new Promise((resolve) => setTimeout(resolve, ms));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get dropped() {
      return dropped;
    },
    dropReplyTo(match, options = {}) {
      if (armed) throw new Error('The proxy is already armed: await the previous dropReplyTo first.');
      return new Promise((resolve) => (armed = { match, resolve, downMs: options.downMs ?? 0 }));
    },
    beforeCommand(match, action) {
      if (held) throw new Error('A command is already awaited: await the previous beforeCommand first.');
      return new Promise((resolve) => (held = { match, action, resolve }));
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
