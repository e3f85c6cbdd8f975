import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

/** One built file of the dashboard, held in memory (the whole build is a few hundred kB). */
export interface DashboardAsset {
  body: Buffer;
  /** The same bytes gzipped, when that is smaller. */
  gzip?: Buffer;
  type: string;
  /** Vite names bundles by content hash under assets/: they may be cached for good. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Where `npm run build` puts the dashboard, seen from this file: dist/ui
 * beside dist/nest in the package, or the repository's dist/ui when the
 * library runs from its TypeScript sources. A folder counts only with its
 * index.html and assets/, so ui/ (the sources) is never taken for a build.
 */
export function findDashboardBuild(candidates = [join(__dirname, '..', '..', 'ui'), join(__dirname, '..', '..', '..', 'dist', 'ui')]): string | undefined {
  return candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets')));
}

function* filesUnder(dir: string): Iterable<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

/**
 * Every file of the build by its URL path ('index.html', 'assets/x.js'). Only
 * these are ever served: a request names a key of this map or gets a 404, so
 * no URL can reach outside the build. Vite's own manifest stays private.
 */
export function loadDashboardAssets(dir: string): Map<string, DashboardAsset> {
  const assets = new Map<string, DashboardAsset>();
  for (const path of filesUnder(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    if (name.startsWith('.')) continue;
    const body = readFileSync(path);
    const type = TYPES[extname(name)] ?? 'application/octet-stream';
    const packed = type.startsWith('text/') || type.includes('json') || type.includes('svg') ? gzipSync(body, { level: 9 }) : undefined;
    assets.set(name, { body, type, gzip: packed && packed.length < body.length ? packed : undefined, immutable: name.startsWith('assets/') });
  }
  return assets;
}
