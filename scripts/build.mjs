// `npm run build`: the controller as plain JavaScript in dist/ (or --outdir DIR inside the
// checkout), started with `node dist/src/cli.js` — no tsx in production. Every TypeScript file of
// src/, actors/, drivers/ and schema/ is transpiled on its own by esbuild (the code is written for
// that: isolatedModules, verbatimModuleSyntax; `npm run typecheck` checks the types), so dist/ has
// the same layout as the sources. The pages are bundled first (web/build.mjs) and copied to
// DIST/web/dist, where the servers look for them beside the built sources.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: join(root, 'dist') }, 'skip-web': { type: 'boolean', default: false } } });
const dist = resolve(values.outdir);
const SOURCES = ['src', 'actors', 'drivers', 'schema'];

const sources = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });

rmSync(dist, { recursive: true, force: true });
if (!values['skip-web'] && existsSync(join(root, 'web', 'build.mjs'))) execFileSync(process.execPath, [join(root, 'web', 'build.mjs')], { cwd: root, stdio: 'inherit' });
const started = performance.now();
await build({
  entryPoints: SOURCES.flatMap((d) => sources(join(root, d))),
  outdir: dist,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  bundle: false,
  sourcemap: true,
  logLevel: 'warning',
});
if (existsSync(join(root, 'web', 'dist'))) cpSync(join(root, 'web', 'dist'), join(dist, 'web', 'dist'), { recursive: true });
console.log(`built ${dist} in ${Math.round(performance.now() - started)} ms: start it with node ${join(dist, 'src', 'cli.js')}`);
