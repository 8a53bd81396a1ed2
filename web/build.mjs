// Bundles the box's own pages (kiosk panel, staff console, monitor) with esbuild into web/dist.
// Every app is web/<app>/main.tsx (Preact, TypeScript); its CSS imports become web/dist/<app>.css.
// `npm start` runs this first (prestart), so a newcomer needs no extra build command.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
export const APPS = ['kiosk', 'staff', 'monitor'];

/** The id of a persisted document, as src/server/persisted.ts computes it. */
const documentIdOf = (source) => `sha256:${createHash('sha256').update(source, 'utf8').digest('hex')}`;

/**
 * The kiosk's operations (web/kiosk/operations.ts) as persisted documents: writes
 * `<outdir>/documents.json` ({ id: source }) for the server, and returns { source: id } for the
 * page bundles, whose graphql-ws client sends the id instead of the text (web/shared/graphql.ts).
 */
async function persistDocuments(outdir) {
  const file = join(root, 'kiosk', 'operations.ts');
  if (!existsSync(file)) return {};
  const bundled = await build({ absWorkingDir: root, entryPoints: [file], bundle: true, format: 'esm', write: false, logLevel: 'warning' });
  const module = await import(`data:text/javascript;base64,${Buffer.from(bundled.outputFiles[0].text).toString('base64')}`);
  const byId = {};
  const idOf = {};
  for (const source of Object.values(module.OPERATIONS)) {
    const id = documentIdOf(source);
    byId[id] = source;
    idOf[source] = id;
  }
  writeFileSync(join(outdir, 'documents.json'), JSON.stringify(byId, null, 2));
  return idOf;
}

/** Builds every app that exists; returns the output sizes (bytes) by file name. */
export async function buildWeb({ outdir = join(root, 'dist'), minify = true } = {}) {
  const apps = APPS.filter((app) => existsSync(join(root, app, 'main.tsx')));
  mkdirSync(outdir, { recursive: true });
  const persisted = await persistDocuments(outdir);
  const result = await build({
    define: { __PERSISTED_DOCUMENTS__: JSON.stringify(persisted) },
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
