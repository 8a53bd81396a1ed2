// Bundles the box's own pages (kiosk panel, staff console, monitor) with esbuild into web/dist.
// Every app is web/<app>/main.tsx (Preact, TypeScript); its CSS imports become web/dist/<app>.css.
// `npm start` runs this first (prestart), so a newcomer needs no extra build command.
import { build } from 'esbuild';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
export const APPS = ['kiosk', 'staff', 'monitor'];

/** Builds every app that exists; returns the output sizes (bytes) by file name. */
export async function buildWeb({ outdir = join(root, 'dist'), minify = true } = {}) {
  const apps = APPS.filter((app) => existsSync(join(root, app, 'main.tsx')));
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(apps.map((app) => [app, join(root, app, 'main.tsx')])),
    outdir,
    bundle: true,
    format: 'esm',
    splitting: false,
    minify,
    sourcemap: false,
    target: ['chrome100'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.woff2': 'file', '.svg': 'file', '.wav': 'file', '.ogg': 'file' },
    assetNames: 'assets/[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const sizes = {};
  for (const [file, info] of Object.entries(result.metafile.outputs)) sizes[file.split('/').pop()] = info.bytes;
  writeFileSync(join(outdir, 'manifest.json'), JSON.stringify({ apps, sizes }, null, 2));
  return sizes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildWeb();
  const list = Object.entries(sizes).map(([f, b]) => `${f} ${(b / 1024).toFixed(1)} kB`).join(', ');
  console.log(`web pages built into web/dist: ${list}`);
}
