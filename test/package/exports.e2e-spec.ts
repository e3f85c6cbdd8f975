import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, packLibrary, scratch, sh, typecheck } from './package-kit';

// What a user installing the packed tarball gets: the subpaths of package.json "exports" at run time
// (CommonJS and ESM) and for TypeScript (node10 and nodenext resolution).
describe('the packed package', () => {
  const work = scratch('exports');
  let tarball: string;

  beforeAll(async () => {
    tarball = await packLibrary(work.dir);
  }, 120_000);
  afterAll(() => work.remove());

  describe('nestjs-gotick/client without Nest, BullMQ or ioredis installed', () => {
    let project: string;
    let server: Server;
    let baseUrl: string;
    const seen: Array<{ method?: string; url?: string; authorization?: string }> = [];

    beforeAll(async () => {
      // --legacy-peer-deps: npm would otherwise add the Nest peers. The client's own deps are then pruned as well.
      project = await makeProject(join(work.dir, 'client-only'), {}, [tarball], ['--legacy-peer-deps']);
      for (const name of ['bullmq', 'ioredis', '@nestjs', 'class-validator', 'class-transformer']) {
        rmSync(join(project, 'node_modules', name), { recursive: true, force: true });
      }
      server = createServer((req: IncomingMessage, res) => {
        seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST' && req.url === '/gotick/flows/demo%2Fclose-order/runs') {
          res.statusCode = 201;
          res.end(JSON.stringify({ runId: 'r-1', created: true }));
        } else {
          res.statusCode = 404;
          res.end(JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'Run "nope" not found' }));
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gotick`;
    }, 180_000);
    afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

    const absent = ['@nestjs/common', '@nestjs/core', 'bullmq', 'ioredis'];
    const body = (load: string) => `${load}
const absent = ${JSON.stringify(absent)}.filter((name) => { try { req.resolve(name); return false; } catch { return true; } });
const client = new TickClient({ baseUrl: process.argv[2], token: 'secret' });
const { runId } = await client.trigger('demo/close-order', { orderId: 'o-1' });
const missing = await client.getRun('nope');
let status;
try { await client.trigger('no/such'); } catch (err) { status = err instanceof TickClientError ? err.status : String(err); }
console.log(JSON.stringify({ absent, runId, missing, status }));
`;

    it.each([
      ['CommonJS (require)', 'client.cjs',
        `const { TickClient, TickClientError } = require('nestjs-gotick/client');\nconst req = require;\n(async () => {\n`, '\n})();'],
      ['ESM (import)', 'client.mjs',
        `import { TickClient, TickClientError } from 'nestjs-gotick/client';\nimport { createRequire } from 'node:module';\nconst req = createRequire(import.meta.url);\n`, ''],
    ])('loads from %s and a TickClient call reaches a local HTTP server', async (_, file, head, tail) => {
      writeFileSync(join(project, file), head + body('') + tail);
      seen.length = 0;
      const output = await sh(process.execPath, [file, baseUrl], project);
      expect(JSON.parse(output.trim().split('\n').pop()!)).toEqual({ absent, runId: 'r-1', missing: null, status: 404 });
      expect(seen[0]).toEqual({ method: 'POST', url: '/gotick/flows/demo%2Fclose-order/runs', authorization: 'Bearer secret' });
      expect(seen).toHaveLength(3);
    });
  });

  describe('every subpath with Nest installed', () => {
    let project: string;

    beforeAll(async () => {
      project = await makeProject(join(work.dir, 'full'), {}, [
        tarball, '@nestjs/common@^11', '@nestjs/core@^11', 'reflect-metadata', 'rxjs', '@types/node@^20',
      ]);
      const use = `import { GoTickModule, TickService, type FlowContext } from 'nestjs-gotick';
import { GoTickEngine, type GoTickEngineOptions } from 'nestjs-gotick/engine';
import { TickClient, type Duration, type RunView } from 'nestjs-gotick/client';
import { createTestEngine, GoTickTestingModule, GoTickTestHarness } from 'nestjs-gotick/testing';

const options: GoTickEngineOptions = { prefix: 'app', retention: '7d', worker: { concurrency: 2 } };
export const engine = new GoTickEngine(options);
export const client = new TickClient({ baseUrl: 'http://127.0.0.1/gotick' });
export const module = GoTickModule.forRoot({ connection: 'redis://127.0.0.1:6379' });
export const wait: Duration = '3s';
export async function read(ticks: TickService): Promise<RunView | null> { return ticks.getRun('r-1'); }
export async function flow(ctx: FlowContext<{ id: string }>): Promise<string> { await ctx.sleep('pause', wait); return ctx.input.id; }
export const testing = GoTickTestingModule.forRoot({ startAt: new Date('2030-01-01') });
export async function unit(): Promise<number> { const kit: GoTickTestHarness = await createTestEngine({ flows: [{ id: 'f', handler: flow }] }); await kit.advance('3s'); await kit.close(); return kit.now(); }
// @ts-expect-error proves the types resolved to the real declarations (an unresolved module would be any)
export const wrong: GoTickEngineOptions = { prefix: 42 };
`;
      writeFileSync(join(project, 'use.ts'), use);
      writeFileSync(join(project, 'use-esm.mts'), use);
      const base = { strict: true, noEmit: true, skipLibCheck: true, experimentalDecorators: true, target: 'ES2022', types: ['node'] };
      writeFileSync(join(project, 'tsconfig.node10.json'), JSON.stringify({
        compilerOptions: { ...base, module: 'commonjs', moduleResolution: 'node10' }, files: ['use.ts'],
      }));
      writeFileSync(join(project, 'tsconfig.nodenext.json'), JSON.stringify({
        compilerOptions: { ...base, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['use.ts', 'use-esm.mts'],
      }));
    }, 180_000);

    it.each(['node10', 'nodenext'])('TypeScript resolves nestjs-gotick, /engine, /client and /testing under moduleResolution %s', async (resolution) => {
      expect(await typecheck(`tsconfig.${resolution}.json`, project)).toBe('');
    });

    it('TypeScript reports an unknown subpath (so the check above can fail)', async () => {
      writeFileSync(join(project, 'bad.ts'), "import { GoTickEngine } from 'nestjs-gotick/no-such-subpath';\nexport const e = GoTickEngine;\n");
      writeFileSync(join(project, 'tsconfig.bad.json'), JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', types: [] }, files: ['bad.ts'],
      }));
      expect(await typecheck('tsconfig.bad.json', project)).toMatch(/TS2307/);
    });

    it('loads, and builds the module, without the optional integrations (Swagger, Terminus, @nestjs/bullmq) installed', async () => {
      const script = `const gotick = require('nestjs-gotick');
const absent = ['@nestjs/swagger', '@nestjs/terminus', '@nestjs/bullmq'].filter((name) => { try { require.resolve(name); return false; } catch { return true; } });
const dynamic = gotick.GoTickModule.forRoot({ connection: 'redis://127.0.0.1:1', http: { token: 't' } });
console.log(JSON.stringify({ absent, health: typeof gotick.GoTickHealthIndicator, queue: gotick.GOTICK_QUEUE, imports: dynamic.imports.length, controllers: dynamic.controllers.map((mounted) => Object.getPrototypeOf(mounted).name) }));`;
      const output = await sh(process.execPath, ['-e', script], project);
      expect(JSON.parse(output.trim().split('\n').pop()!)).toEqual({
        absent: ['@nestjs/swagger', '@nestjs/terminus', '@nestjs/bullmq'], health: 'function', queue: 'nestjs-gotick:runs', imports: 0,
        controllers: ['TickController', 'GoTickMetricsController', 'DashboardController'],
      });
    });

    it('every subpath loads at run time from CommonJS and from ESM', async () => {
      const names = { '': 'GoTickModule', '/engine': 'GoTickEngine', '/client': 'TickClient', '/testing': 'createTestEngine' };
      for (const [subpath, name] of Object.entries(names)) {
        const cjs = await sh(process.execPath, ['-e', `console.log(typeof require('nestjs-gotick${subpath}').${name})`], project);
        const esm = await sh(process.execPath, ['--input-type=module', '-e', `import { ${name} } from 'nestjs-gotick${subpath}'; console.log(typeof ${name})`], project);
        expect([subpath, cjs.trim(), esm.trim()]).toEqual([subpath, 'function', 'function']);
      }
    });
  });
});
