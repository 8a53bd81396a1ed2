// Writes the error table of README.md from the catalog (actors/domain/errors.ts), between the
// errors:start and errors:end markers. Run: npm run docs   — test/docs.test.ts fails on drift.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorTableMarkdown } from '../actors/domain/errors.js';

const readmePath = fileURLToPath(new URL('../README.md', import.meta.url));

/** The README with its error table replaced by the catalog's. */
export function readmeWithErrorTable(readme: string): string {
  const start = readme.indexOf('<!-- errors:start');
  const end = readme.indexOf('<!-- errors:end -->');
  if (start < 0 || end < start) throw new Error('README.md has no errors:start / errors:end markers');
  const open = readme.indexOf('-->', start) + 3;
  return `${readme.slice(0, open)}\n${errorTableMarkdown()}${readme.slice(end)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(readmePath, readmeWithErrorTable(readFileSync(readmePath, 'utf8')));
  console.log('README.md error table written');
}
