// Writes the error table of README.md from the catalog (actors/domain/errors.ts), between the
// errors:start and errors:end markers, and the configuration table from the schema (src/config.ts),
// between config:start and config:end. Run: npm run docs   — test/docs.test.ts fails on drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorTableMarkdown } from '../actors/domain/errors.js';
import { configTableMarkdown } from '../src/config.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));

/** The README with the generated part between `<!-- NAME:start … -->` and `<!-- NAME:end -->` replaced by `table`. */
function withGenerated(readme: string, name: string, table: string): string {
  const start = readme.indexOf(`<!-- ${name}:start`);
  const end = readme.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`README.md has no ${name}:start / ${name}:end markers`);
  const open = readme.indexOf('-->', start) + 3;
  return `${readme.slice(0, open)}\n${table}${readme.slice(end)}`;
}

/** The README with its error table replaced by the catalog's. */
export const readmeWithErrorTable = (readme: string): string => withGenerated(readme, 'errors', errorTableMarkdown());

/** The README with its configuration table replaced by the schema's. */
export const readmeWithConfigTable = (readme: string): string => withGenerated(readme, 'config', configTableMarkdown());

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(readmePath, readmeWithConfigTable(readmeWithErrorTable(readFileSync(readmePath, 'utf8'))));
  console.log('README.md error and configuration tables written');
}
