import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { printedCentralSchema } from '../../src/fleet/print-schema.js';

test('src/fleet/central.graphql is the central schema (npx tsx src/fleet/print-schema.ts rewrites it)', () => {
  const committed = readFileSync(new URL('../../src/fleet/central.graphql', import.meta.url), 'utf8');
  assert.fixture(printedCentralSchema(), committed);
});

test('the central schema has no personal data fields on what it returns', () => {
  const sdl = printedCentralSchema();
  const outputTypes = sdl.split('\n\n').filter((block) => /^type /.test(block));
  for (const block of outputTypes) assert.not.match(block, /\b(phone|birthDate|pin|oldDocumentNumber)\b/, block.split('\n')[0]);
});

test.run();
