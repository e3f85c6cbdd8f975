import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';

/** Boots a Nest app from module metadata, the way a user's main.ts would (minus listen). */
export async function bootApp(metadata: ModuleMetadata): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

/** Boots a Nest app and listens on a free loopback port; `base` is the URL of its GoTick routes under `path`. */
export async function listenApp(metadata: ModuleMetadata, path = 'gotick'): Promise<{ app: INestApplication; base: string }> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, base: `${await app.getUrl()}/${path}` };
}
