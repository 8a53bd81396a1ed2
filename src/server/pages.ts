import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KioskBinding } from './kiosk-binding.js';

/** An answer of the page routes, the same for both servers. */
export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface PagesOptions {
  /** where `web/build.mjs` wrote the bundles */
  distDir?: string;
  /** the kiosk ids the box has: `/kiosk/<id>` exists only for these */
  kiosks: readonly string[];
  /** issues the kiosk cookie to configured panel addresses (kiosk-binding.ts) */
  binding?: KioskBinding;
}

/** The pages the box serves itself: `/kiosk/<id>`, `/staff`, `/monitor` and their `/assets/…`. */
export interface Pages {
  /** The answer for a GET/HEAD of `url` from `remoteAddress`, or null when the URL is not a page route. */
  handle(method: string | undefined, url: string | undefined, remoteAddress?: string): PageResponse | null;
}

const here = dirname(fileURLToPath(import.meta.url));
/** web/dist beside the sources, whether running from src/ (tsx) or dist/src/ (built). */
export function defaultDistDir(): string {
  for (const up of ['../../web/dist', '../../../web/dist']) {
    const dir = normalize(join(here, up));
    if (existsSync(dir)) return dir;
  }
  return normalize(join(here, '../../web/dist'));
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.wav': 'audio/wav',
  '.ogg': 'audio/ogg',
  '.png': 'image/png',
  '.json': 'application/json',
};

/**
 * Everything a page may load comes from the box itself (offline city office, no third parties):
 * the policy forbids any other origin, inline scripts and framing.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob: data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

const TITLES: Record<string, string> = {
  kiosk: 'Dokumentenausgabe',
  staff: 'Ausgabebox — Personal',
  monitor: 'Ausgabebox — Überwachung',
};

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function createPages(options: PagesOptions): Pages {
  const dist = options.distDir ?? defaultDistDir();

  const shell = (app: string, data: Record<string, string>): PageResponse => {
    if (!existsSync(join(dist, `${app}.js`))) {
      return text(503, `The ${app} page has not been built: run "node web/build.mjs" (npm start does it).`);
    }
    const attrs = Object.entries(data)
      .map(([k, v]) => ` data-${k}="${escapeAttr(v)}"`)
      .join('');
    const css = existsSync(join(dist, `${app}.css`)) ? `<link rel="stylesheet" href="/assets/${app}.css">` : '';
    const html =
      `<!doctype html><html lang="de"><head><meta charset="utf-8">` +
      `<meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<title>${TITLES[app]}</title>${css}</head>` +
      `<body><div id="app"${attrs}></div><script type="module" src="/assets/${app}.js"></script></body></html>`;
    // no-store: "back" or a reload never shows an earlier user's page from the cache.
    return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body: html };
  };

  const asset = (name: string): PageResponse => {
    const file = normalize(join(dist, name));
    if (!file.startsWith(dist + '/') || !existsSync(file) || !TYPES[extname(file)]) return text(404, 'not found');
    return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': TYPES[extname(file)]!, 'cache-control': 'no-cache' }, body: readFileSync(file) };
  };

  return {
    handle(method, url, remoteAddress) {
      if (method !== 'GET' && method !== 'HEAD') return null;
      const path = (url ?? '/').split('?')[0]!;
      if (path.startsWith('/assets/')) return asset(decodeURIComponent(path.slice('/assets/'.length)));
      const kiosk = /^\/kiosk\/([^/]+)\/?$/.exec(path);
      if (kiosk) {
        const id = decodeURIComponent(kiosk[1]!);
        if (!options.kiosks.includes(id)) return text(404, `no kiosk ${id}`);
        // Only a configured panel address gets the cookie; any other browser sees an unbound panel.
        const cookie = options.binding?.issue(id, remoteAddress) ?? null;
        const page = shell('kiosk', { kiosk: id, bound: cookie ? 'true' : 'false' });
        if (cookie && page.status === 200) page.headers['set-cookie'] = cookie;
        return page;
      }
      if (path === '/staff' || path === '/staff/') return shell('staff', {});
      if (path === '/monitor' || path === '/monitor/') return shell('monitor', {});
      return null;
    },
  };
}

function text(status: number, body: string): PageResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body };
}
