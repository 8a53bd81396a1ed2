import type { Box } from '../../src/box.js';
import { committedPickups } from './committed.js';

/** JSON with object keys sorted, so two rows compare by content whatever order their keys were set in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The fields two rows disagree on: `field projection≠registry`. */
function fieldsApart(mine: object, theirs: object): string {
  const a = mine as Record<string, unknown>;
  const b = theirs as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonical(a[k]) !== canonical(b[k])).map((k) => `${k} ${canonical(a[k])}≠${canonical(b[k])}`).join(', ');
}

/**
 * How what the box's readers see (`pickup`, `pickups`, `counts`: its projection) differs from the
 * registry's committed pickup table, row for row, the PIN hash left out: one line per difference,
 * none when they agree.
 */
export function projectionDrift(box: Box): string[] {
  const committed = Object.values(committedPickups(box)).map((p) => {
    const { pinHash: _secret, ...row } = JSON.parse(JSON.stringify(p)) as typeof p & { pinHash?: unknown };
    return row;
  });
  const seen = box.pickups();
  const out: string[] = [];
  const ids = (rows: ReadonlyArray<{ id: string }>) => rows.map((r) => r.id).join(',');
  if (ids(seen) !== ids(committed)) out.push(`pickups in the projection [${ids(seen)}], in the registry [${ids(committed)}]`);
  const byId = new Map(seen.map((p) => [p.id, p]));
  for (const row of committed) {
    const mine = byId.get(row.id);
    if (mine && canonical(mine) !== canonical(row)) out.push(`${row.reference}: ${fieldsApart(mine, row)}`);
    const read = box.pickup(` ${row.reference} `);
    if (canonical(read) !== canonical(row)) out.push(`${row.reference} by reference: ${read ? fieldsApart(read, row) : 'not found'}`);
  }
  for (const p of seen) if ('pinHash' in p) out.push(`${p.reference}: the projection holds the PIN hash`);
  const counted: Record<string, number> = {};
  for (const p of committed) counted[p.status] = (counted[p.status] ?? 0) + 1;
  if (canonical(box.counts().pickupsByStatus) !== canonical(counted)) out.push(`counts ${canonical(box.counts().pickupsByStatus)}, registry ${canonical(counted)}`);
  return out;
}
