import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findDashboardBuild, loadDashboardAssets } from './dashboard-assets';

describe('the dashboard build on disk', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'gotick-ui-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function folder(name: string, files: Record<string, string>): string {
    const dir = join(root, name);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  }

  it('takes a folder with index.html and assets/, never the sources beside it', () => {
    const sources = folder('ui', { 'index.html': '<script src="./src/main.tsx">', 'src/main.tsx': '' });
    const built = folder('dist-ui', { 'index.html': '<script src="./assets/a.js">', 'assets/a.js': 'x' });
    expect(findDashboardBuild([sources, built])).toBe(built);
    expect(findDashboardBuild([sources])).toBeUndefined();
  });

  it('serves only the files of the build, by URL path, with types, gzip and cache rules', () => {
    const js = 'console.log("dashboard");'.repeat(50);
    const built = folder('b', { 'index.html': '<!doctype html>', 'assets/app-1a2b.js': js, 'assets/pic.png': 'PNG', '.vite/manifest.json': '{}' });
    const assets = loadDashboardAssets(built);
    expect([...assets.keys()].sort()).toEqual(['assets/app-1a2b.js', 'assets/pic.png', 'index.html']);
    const app = assets.get('assets/app-1a2b.js')!;
    expect(app.type).toBe('text/javascript; charset=utf-8');
    expect(app.immutable).toBe(true);
    expect(app.gzip!.length).toBeLessThan(app.body.length);
    expect(assets.get('index.html')!.immutable).toBe(false);
    expect(assets.get('assets/pic.png')!.gzip).toBeUndefined();
  });
});
