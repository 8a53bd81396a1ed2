import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readmeWithConfigTable, readmeWithErrorTable } from '../scripts/docs.js';

test('the README error table is the error catalog (npm run docs rewrites it)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.ok(readme === readmeWithErrorTable(readme), 'README.md error table drifted from actors/domain/errors.ts: run npm run docs');
});

test('the README configuration table is the schema (npm run docs rewrites it)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.ok(readme === readmeWithConfigTable(readme), 'README.md configuration table drifted from src/config.ts: run npm run docs');
});

test('every code the actors reply, alarm or fail with is in the catalog', async () => {
  const { isErrorCode } = await import('../actors/domain/errors.js');
  const { readdirSync } = await import('node:fs');
  const dir = new URL('../actors/', import.meta.url);
  const used = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(new URL(file, dir), 'utf8');
    for (const m of text.matchAll(/\bcode: '([A-Z][A-Z0-9_]+)'/g)) used.add(m[1]!);
    for (const m of text.matchAll(/raise\([^,]+, '([A-Z][A-Z0-9_]+)'/g)) used.add(m[1]!);
    for (const m of text.matchAll(/fail\(enq, e, '([A-Z][A-Z0-9_]+)'/g)) used.add(m[1]!);
    for (const m of text.matchAll(/error: '([A-Z][A-Z0-9_]+)'/g)) used.add(m[1]!);
  }
  assert.ok(used.size > 15, `found ${used.size} codes`);
  const missing = [...used].filter((c) => !isErrorCode(c));
  assert.equal(missing, [], `codes missing from actors/domain/errors.ts: ${missing.join(', ')}`);
});

test.run();
