import { asTable, diffTables, eachRow, isTable } from './table.js';

/**
 * Large actor contexts (the registry holds every pickup) are persisted row by row: each `table`
 * (a top-level key of the context holding a Record) is stored as one entry per row, and a commit
 * writes only the rows whose object changed. Handlers update immutably, so "changed" is a
 * reference comparison. A table kept as a persistent map (table.ts: `setRow`/`deleteRow`) is
 * compared along the paths the two versions do not share — O(changed rows) however large it
 * is; a plain Record is compared row by row (O(rows)), which small tables can afford.
 */

export interface RowChange {
  table: string;
  id: string;
  /** undefined: the row was removed */
  value: unknown;
}

type Ctx = Record<string, unknown>;
type Table = Record<string, unknown>;

/** The context without its tables, and the row changes since `previous` (all rows without it). */
export function splitRows(ctx: unknown, tables: readonly string[], previous?: unknown): { head: Ctx; changes: RowChange[] } {
  const head: Ctx = { ...(ctx as Ctx) };
  const changes: RowChange[] = [];
  for (const table of tables) {
    const now = ((ctx as Ctx)[table] ?? {}) as Table;
    const before = previous === undefined ? undefined : (((previous as Ctx)[table] ?? {}) as Table);
    delete head[table];
    if (before === now) continue;
    if (isTable(now)) {
      if (before === undefined) eachRow(now, (id, value) => changes.push({ table, id, value }));
      else diffTables(before, now, (id, value) => changes.push({ table, id, value }));
      continue;
    }
    // for…in rather than Object.entries: no [id, value] pair allocated per row of a large table.
    for (const id in now) {
      const value = now[id];
      if (before?.[id] !== value) changes.push({ table, id, value });
    }
    if (before) for (const id in before) if (!(id in now)) changes.push({ table, id, value: undefined });
  }
  return { head, changes };
}

/**
 * The context again, from its head and the rows of each table. The tables come back as
 * persistent maps (built in one pass as the store is loaded), so the first message after a start
 * pays for its own rows only, not for turning a large Record into a table.
 */
export function joinRows(head: unknown, tables: readonly string[], rows: Record<string, Table>): Ctx {
  const ctx: Ctx = { ...(head as Ctx) };
  for (const table of tables) ctx[table] = asTable(rows[table] ?? {});
  return ctx;
}
