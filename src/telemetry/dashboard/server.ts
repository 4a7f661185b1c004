import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsupportedError } from '../../core/errors.js';

/**
 * Serves the dashboard: a fixed set of static files (the page, its script and style, and the
 * vega/vega-lite browser bundles from this package's own node_modules, so no CDN is involved)
 * plus `config.json` telling the page which telemetry socket to subscribe to.
 */

/** The page's files: next to this module when run from src (tsx), in src/ when run from dist. */
export function staticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'static'), join(here, '..', '..', '..', '..', 'src', 'telemetry', 'dashboard', 'static')];
  const dir = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!dir) throw new UnsupportedError('dashboard', `page files not found (looked in ${candidates.join(', ')})`, 'reinstall ghost-alps');
  return dir;
}

function vendorFile(pkg: 'vega' | 'vega-lite'): string {
  const require = createRequire(import.meta.url);
  // Both packages export their ESM entry from build/; the UMD bundle sits beside it.
  const entry = require.resolve(pkg);
  const file = join(dirname(entry), pkg === 'vega' ? 'vega.min.js' : 'vega-lite.min.js');
  if (!existsSync(file)) throw new UnsupportedError('dashboard', `${pkg} browser bundle missing at ${file}`, 'run npm install');
  return file;
}

interface Asset {
  path: string;
  type: string;
}

export interface DashboardServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Start the page server; `wsUrl` is the telemetry socket the page subscribes to. */
export async function serveDashboard(opts: { wsUrl: string; host?: string; port?: number }): Promise<DashboardServer> {
  const dir = staticDir();
  const assets: Record<string, Asset> = {
    '/': { path: join(dir, 'index.html'), type: 'text/html; charset=utf-8' },
    '/index.html': { path: join(dir, 'index.html'), type: 'text/html; charset=utf-8' },
    '/app.js': { path: join(dir, 'app.js'), type: 'text/javascript; charset=utf-8' },
    '/style.css': { path: join(dir, 'style.css'), type: 'text/css; charset=utf-8' },
    '/vendor/vega.min.js': { path: vendorFile('vega'), type: 'text/javascript; charset=utf-8' },
    '/vendor/vega-lite.min.js': { path: vendorFile('vega-lite'), type: 'text/javascript; charset=utf-8' },
  };
  const cache = new Map<string, Buffer>();
  const config = Buffer.from(JSON.stringify({ ws: opts.wsUrl }));
  const wsOrigin = new URL(opts.wsUrl).origin.replace(/^http/, 'ws');
  // vega compiles its expressions with Function(), hence 'unsafe-eval'; everything else is local.
  const csp = `default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ${wsOrigin}`;

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let body: Buffer | undefined;
    let type = 'application/json';
    if (path === '/config.json') body = config;
    else {
      const a = assets[path];
      if (a) {
        type = a.type;
        body = cache.get(path);
        if (!body) cache.set(path, (body = readFileSync(a.path)));
      }
    }
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache', 'content-security-policy': csp, 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
