import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startRedis, type TestRedis } from '../support/redis-server';
import { waitUntil } from '../support/wait-until';
import { makeProject, packLibrary, scratch } from './package-kit';

/**
 * The optional integrations as a user installs them from the packed tarball, with plain `npm install`:
 * Terminus health, Swagger document, @nestjs/bullmq's @InjectQueue(GOTICK_QUEUE), on Nest 11 (CommonJS,
 * @nestjs/bullmq 11, which is CommonJS) and Nest 12 (ESM, @nestjs/bullmq 12, which ships ES modules only).
 * Plain JavaScript, decorators applied as functions, so no compiler stands between the package and the test.
 */
const app = `
class Flows {
  async echo(ctx) { await ctx.sleep('nap', 50); return ctx.memo('echo', () => 'echo ' + ctx.input); }
}
Injectable()(Flows);
Flow('pkg/echo')(Flows.prototype, 'echo', Object.getOwnPropertyDescriptor(Flows.prototype, 'echo'));

class Probe {
  constructor(health, gotick, queue) { this.health = health; this.gotick = gotick; this.queue = queue; }
  check() { return this.health.check([() => this.gotick.isHealthy('gotick')]); }
  queueInfo() { return { name: this.queue.name, prefix: this.queue.opts.prefix }; }
}
Controller()(Probe);
Inject(HealthCheckService)(Probe, undefined, 0);
Inject(GoTickHealthIndicator)(Probe, undefined, 1);
InjectQueue(GOTICK_QUEUE)(Probe, undefined, 2);
Get('health')(Probe.prototype, 'check', Object.getOwnPropertyDescriptor(Probe.prototype, 'check'));
HealthCheck()(Probe.prototype, 'check', Object.getOwnPropertyDescriptor(Probe.prototype, 'check'));
Get('queue')(Probe.prototype, 'queueInfo', Object.getOwnPropertyDescriptor(Probe.prototype, 'queueInfo'));

class AppModule {}
Module({
  imports: [TerminusModule, GoTickModule.forRoot({ connection: process.env.REDIS_URL, prefix: process.env.PREFIX, http: { token: 'pkg-token' } })],
  controllers: [Probe],
  providers: [Flows],
})(AppModule);

const nest = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
SwaggerModule.setup('docs', nest, SwaggerModule.createDocument(nest, new DocumentBuilder().addBearerAuth().build()));
nest.enableShutdownHooks();
await nest.listen(Number(process.env.PORT), '127.0.0.1');
`;

const imports = {
  '@nestjs/common': ['Controller', 'Get', 'Inject', 'Injectable', 'Module'],
  '@nestjs/core': ['NestFactory'],
  '@nestjs/terminus': ['HealthCheck', 'HealthCheckService', 'TerminusModule'],
  '@nestjs/swagger': ['DocumentBuilder', 'SwaggerModule'],
  '@nestjs/bullmq': ['InjectQueue'],
  'nestjs-gotick': ['Flow', 'GOTICK_QUEUE', 'GoTickHealthIndicator', 'GoTickModule'],
};
const esm = `import 'reflect-metadata';\n${Object.entries(imports).map(([from, names]) => `import { ${names.join(', ')} } from '${from}';`).join('\n')}\n${app}`;
const cjs = `require('reflect-metadata');\n${Object.entries(imports).map(([from, names]) => `const { ${names.join(', ')} } = require('${from}');`).join('\n')}\n(async () => {\n${app}\n})();`;

const variants = [
  { name: 'Nest 11, CommonJS', nest: '^11', bullmq: '^11.0.5', swagger: '^11', terminus: '^11', fields: {}, file: 'main.js', code: cjs },
  { name: 'Nest 12, ESM', nest: '^12', bullmq: '^12', swagger: '^12', terminus: '^12', fields: { type: 'module' }, file: 'main.js', code: esm },
];

describe('health, OpenAPI and @nestjs/bullmq from the packed package', () => {
  const work = scratch('integrations');
  let tarball: string;
  let redis: TestRedis;

  beforeAll(async () => {
    [tarball, redis] = await Promise.all([packLibrary(work.dir), startRedis()]);
  }, 120_000);
  afterAll(async () => {
    await redis?.stop();
    work.remove();
  });

  it.each(variants)('$name: /health is up, the document lists the routes, GOTICK_QUEUE is the run queue, a run completes', async (variant) => {
    const project = await makeProject(join(work.dir, variant.nest.replace(/\W/g, '')), variant.fields, [
      tarball,
      `@nestjs/common@${variant.nest}`, `@nestjs/core@${variant.nest}`, `@nestjs/platform-express@${variant.nest}`,
      `@nestjs/bullmq@${variant.bullmq}`, `@nestjs/swagger@${variant.swagger}`, `@nestjs/terminus@${variant.terminus}`,
      'reflect-metadata@^0.2', 'rxjs@^7',
    ]);
    writeFileSync(join(project, variant.file), variant.code);
    const port = await freePort();
    const prefix = `pkg${variant.nest.replace(/\W/g, '')}`;
    const output: string[] = [];
    const child: ChildProcess = spawn(process.execPath, [variant.file], {
      cwd: project,
      env: { ...process.env, REDIS_URL: redis.url, PORT: String(port), PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: 'Bearer pkg-token', 'content-type': 'application/json' };
    try {
      await waitUntil(async () => (await fetch(`${base}/health`).catch(() => null))?.ok || child.exitCode !== null, 'the app to listen', 30_000);
      const health = (await (await fetch(`${base}/health`)).json()) as { info: { gotick: Record<string, unknown> } };
      expect(health.info.gotick).toMatchObject({ status: 'up', redis: 'up', worker: 'running' });

      const doc = (await (await fetch(`${base}/docs-json`)).json()) as { paths: Record<string, Record<string, { operationId: string }>> };
      expect(doc.paths['/gotick/flows/{flowId}/runs'].post.operationId).toBe('gotickTrigger');
      expect(doc.paths['/gotick/runs/{runId}'].get.operationId).toBe('gotickGetRun');

      expect(await (await fetch(`${base}/queue`)).json()).toEqual({ name: 'runs', prefix });

      const created = await fetch(`${base}/gotick/flows/pkg%2Fecho/runs`, { method: 'POST', headers: auth, body: JSON.stringify({ input: 'hi' }) });
      expect(created.status).toBe(201);
      const { runId } = (await created.json()) as { runId: string };
      const run = await waitUntil(async () => {
        const view = (await (await fetch(`${base}/gotick/runs/${runId}`, { headers: auth })).json()) as { status: string; output?: unknown };
        return view.status === 'completed' ? view : null;
      }, 'the run to complete', 20_000);
      expect(run.output).toBe('echo hi');

      child.kill('SIGTERM');
      await waitUntil(() => child.exitCode !== null || child.signalCode !== null, 'the app to exit on SIGTERM', 15_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- app output ---\n${output.join('')}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 300_000);
});
