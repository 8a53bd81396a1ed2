import { lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema } from '../../schema/index.js';

/** The schema as SDL, sorted, exactly as `schema.graphql` is committed. */
export function printedSchema(): string {
  return printSchema(lexicographicSortSchema(buildSchema())) + '\n';
}
