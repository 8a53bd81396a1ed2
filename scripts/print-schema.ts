// Writes the schema both servers serve to schema.graphql (sorted, so diffs show real changes).
// Run: npx tsx scripts/print-schema.ts   — test/api/schema.test.ts fails when the file drifts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema } from '../src/server/print.js';

const target = fileURLToPath(new URL('../schema.graphql', import.meta.url));
writeFileSync(target, printedSchema());
console.log(`wrote ${target}`);
