// Writes the central service's schema to src/fleet/central.graphql (sorted, so diffs show real
// changes). Run: npx tsx src/fleet/print-schema.ts — test/fleet/schema.test.ts fails when it drifts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildCentralSchema } from './schema.js';

/** The central schema as SDL, sorted, exactly as `src/fleet/central.graphql` is committed. */
export const printedCentralSchema = (): string => printSchema(lexicographicSortSchema(buildCentralSchema())) + '\n';

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL('./central.graphql', import.meta.url));
  writeFileSync(target, printedCentralSchema());
  console.log(`wrote ${target}`);
}
