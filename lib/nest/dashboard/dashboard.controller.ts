import { Controller, Get, Inject, Optional, Req, Res, type Type } from '@nestjs/common';
import { gzipSync } from 'node:zlib';
import { GOTICK_HTTP_OPTIONS, GOTICK_MODULE_OPTIONS } from '../gotick.constants';
import type { GoTickHttpOptions, GoTickModuleOptions } from '../gotick.options';
import { findDashboardBuild, loadDashboardAssets, type DashboardAsset } from './dashboard-assets';
import { DocExclude } from '../http/openapi/swagger';

/** What a browser is allowed to load and call from the page: this origin only, so nothing leaves the network it runs on. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // The graph library positions its nodes with style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'self'",
].join('; ');

const NOT_BUILT =
  'The GoTick dashboard is not built. Build it with `npm run build` in nestjs-gotick (it writes dist/ui), ' +
  'or turn it off with http.ui: false.';

/** Just enough of Express's request and response for static files. */
interface HttpRequest {
  originalUrl: string;
  headers: Record<string, string | string[] | undefined>;
}
interface HttpResponse {
  status(code: number): HttpResponse;
  setHeader(name: string, value: string): void;
  send(body: Buffer | string): void;
}

/**
 * Serves the dashboard's single page and its assets at `<path>/ui/`. The
 * files hold no data and need no auth; every call the page makes goes to the
 * REST routes, which check the token or guard as they do for any client.
 */
@DocExclude() // a page and its files, not API
export class DashboardController {
  private assets?: Map<string, DashboardAsset> | null;
  /**
   * How the REST routes check callers, told to the page in a meta tag: with a
   * token it asks for it at once, instead of calling the API bare first and
   * showing the browser's 401 in the console. Says nothing a 401 would not.
   */
  private readonly auth: 'token' | 'guard' | 'public';

  constructor(
    @Optional() @Inject(GOTICK_MODULE_OPTIONS) options?: GoTickModuleOptions,
    @Optional() @Inject(GOTICK_HTTP_OPTIONS) http?: GoTickHttpOptions | null,
  ) {
    const merged = { ...http, ...options?.http };
    this.auth = merged.guard ? 'guard' : merged.token ? 'token' : 'public';
  }
  /** Where the build is: dist/ui (see findDashboardBuild). */
  protected locateBuild: () => string | undefined = () => findDashboardBuild();

  @Get('ui')
  shell(@Req() req: HttpRequest, @Res() res: HttpResponse): void {
    const path = req.originalUrl.split('?')[0];
    // Relative asset URLs need the trailing slash; a relative Location keeps any proxy prefix the browser sees.
    if (!path.endsWith('/')) {
      res.status(302);
      res.setHeader('Location', `${path.slice(path.lastIndexOf('/') + 1)}/`);
      res.send('');
      return;
    }
    this.serve('index.html', req, res);
  }

  @Get('ui/*path')
  file(@Req() req: HttpRequest, @Res() res: HttpResponse): void {
    const path = req.originalUrl.split('?')[0];
    const name = decodeURIComponent(path.slice(path.indexOf('/ui/') + '/ui/'.length));
    this.serve(name, req, res);
  }

  private serve(name: string, req: HttpRequest, res: HttpResponse): void {
    const assets = this.loaded();
    if (!assets) return void this.text(res, 404, NOT_BUILT);
    const asset = assets.get(name);
    if (!asset) return void this.text(res, 404, `No such dashboard file: ${name}`);
    res.setHeader('Content-Type', asset.type);
    res.setHeader('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    if (name === 'index.html') res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('Vary', 'Accept-Encoding');
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (asset.gzip && /\bgzip\b/.test(accepts)) {
      res.setHeader('Content-Encoding', 'gzip');
      res.status(200).send(asset.gzip);
    } else {
      res.status(200).send(asset.body);
    }
  }

  private text(res: HttpResponse, status: number, message: string): void {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.status(status).send(message);
  }

  /** Read once, on the first request: an app that never opens the page never reads the files. */
  private loaded(): Map<string, DashboardAsset> | null {
    if (this.assets === undefined) {
      const dir = this.locateBuild();
      this.assets = dir ? loadDashboardAssets(dir) : null;
      const shell = this.assets?.get('index.html');
      if (shell) {
        const body = Buffer.from(shell.body.toString('utf8').replace('</head>', `<meta name="gotick-auth" content="${this.auth}" />\n</head>`));
        this.assets!.set('index.html', { ...shell, body, gzip: gzipSync(body) });
      }
    }
    return this.assets;
  }
}

/** The dashboard controller mounted under the REST routes' path. */
export function createDashboardController(path: string): Type<DashboardController> {
  class MountedDashboardController extends DashboardController {}
  Controller(path)(MountedDashboardController);
  return MountedDashboardController;
}
