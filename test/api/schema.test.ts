import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isObjectType } from 'graphql';
import { buildSchema } from '../../schema/index.js';
import { printedSchema } from '../../src/server/print.js';

test('the committed schema.graphql matches the schema the servers serve (run scripts/print-schema.ts)', () => {
  const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
  assert.ok(committed === printedSchema(), 'schema.graphql drifted: run `npx tsx scripts/print-schema.ts` and commit the result');
});

test('no output type has a field for personal data: phone, birth date, PIN hash or old document number', () => {
  const personal = new Set(['phone', 'birthDate', 'pin', 'pinHash', 'oldDocumentNumber']);
  for (const type of Object.values(buildSchema().getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const name of Object.keys(type.getFields())) assert.not.ok(personal.has(name), `${type.name}.${name} exposes personal data`);
  }
});

test.run();
