import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { splitRows } from '../../actors/runtime/rows.js';
import { readonlyView, plainCopy } from '../../actors/runtime/readonly.js';
import { asTable, deleteRow, diffTables, isTable, rowCount, rowsWhere, setRow, type RowIndex } from '../../actors/runtime/table.js';

// Tables (actors/runtime/table.ts) hold the registry's pickups: a handler changes one row without
// copying the table, the committed version stays what it was, and a commit finds the changed rows
// without comparing every row. Checked here against a plain object doing the same operations.

const SEED = Number(process.env.TABLE_SEED) || Date.now() % 1_000_000;

interface Row {
  owner: string | null;
  n: number;
}
const BY_OWNER: RowIndex<Row> = { name: 'owner', keyOf: (r) => r.owner };

type Op = { kind: 'set'; id: string; row: Row } | { kind: 'delete'; id: string } | { kind: 'index'; owner: string };

// Few ids and owners, so that sets replace, deletes hit and indexes hold several rows; the two
// pairs of words share a 32-bit hash, so rows that collide in the trie are exercised too.
const ids = fc.constantFrom('P1', 'P2', 'P3', 'P10', 'P11', 'costarring', 'liquid', 'declinate', 'macallums', ...Array.from({ length: 40 }, (_, i) => `X${i}`));
const owner = fc.constantFrom('s1', 's2', 's3');
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), id: ids, row: fc.record({ owner: fc.option(owner, { nil: null }), n: fc.integer({ min: 0, max: 3 }) }).map(({ owner: o, n }) => ({ owner: o, n })) }),
  fc.record({ kind: fc.constant('delete' as const), id: ids }),
  fc.record({ kind: fc.constant('index' as const), owner }),
);

test(`a table reads like the plain object built by the same sets and deletes, and the old version never changes (seed ${SEED})`, () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 20 }), fc.array(op, { maxLength: 120 }), (start, ops) => {
      // A table converted from a stored Record (built in one pass), then changed row by row.
      let plain: Record<string, Row> = {};
      for (const o of start) if (o.kind === 'set') plain[o.id] = o.row;
      let table = asTable<Row>(plain);
      assert.equal(Object.keys(table), Object.keys(plain), 'a converted Record keeps its key order');
      for (const o of ops) {
        const before = table;
        const beforeJson = JSON.stringify(before);
        if (o.kind === 'set') {
          table = setRow(table, o.id, o.row);
          plain = { ...plain, [o.id]: o.row };
        } else if (o.kind === 'delete') {
          table = deleteRow(table, o.id);
          const { [o.id]: _gone, ...rest } = plain;
          plain = rest;
        } else {
          const want = Object.values(plain).filter((r) => r.owner === o.owner);
          assert.equal(new Set(rowsWhere(table, BY_OWNER, o.owner)), new Set(want), `rows of ${o.owner}`);
        }
        assert.is(JSON.stringify(before), beforeJson, 'the version a change started from is unchanged');
        // The changes a commit would write: exactly the rows that differ from the plain model's last step.
        const seen: Record<string, Row | undefined> = {};
        diffTables(before, table, (id, value) => void (seen[id] = value as Row | undefined));
        const expected: Record<string, Row | undefined> = {};
        for (const id of new Set([...Object.keys(JSON.parse(beforeJson) as object), ...Object.keys(plain)])) {
          const was = (before as Record<string, Row>)[id];
          if (was !== plain[id]) expected[id] = plain[id];
        }
        assert.equal(seen, expected);
      }
      assert.equal(Object.keys(table), Object.keys(plain), 'keys in insertion order, as on a plain object');
      assert.equal(Object.values(table), Object.values(plain));
      assert.equal(JSON.parse(JSON.stringify(table)), plain);
      assert.is(rowCount(table), Object.keys(plain).length);
      for (const id of Object.keys(plain)) assert.ok(id in table && table[id] === plain[id]);
      const forIn: string[] = [];
      for (const id in table) forIn.push(id);
      assert.equal(forIn, Object.keys(plain));
      // The indexes carried along by every change agree with a scan at the end too.
      for (const o of ['s1', 's2', 's3']) {
        assert.equal(new Set(rowsWhere(table, BY_OWNER, o)), new Set(Object.values(plain).filter((r) => r.owner === o)));
      }
    }),
    { seed: SEED, numRuns: 200 },
  );
});

test('a table refuses writes with a TypeError and says how to change it', () => {
  const table = setRow<Row>({}, 'P1', { owner: null, n: 1 });
  assert.throws(() => ((table as Record<string, Row>).P2 = { owner: null, n: 2 }), (e: Error) => e instanceof TypeError && /setRow/.test(e.message));
  assert.throws(() => delete (table as Record<string, Row>).P1, TypeError);
  assert.equal(plainCopy(readonlyView(table)), { P1: { owner: null, n: 1 } });
  assert.ok(isTable(table));
  assert.not.ok(isTable({ P1: 1 }));
});

test('a commit of one changed row in a table of 50,000 writes that row and nothing else', () => {
  let pickups: Record<string, Row> = {};
  for (let i = 0; i < 50_000; i++) pickups[`P${i}`] = { owner: null, n: i };
  const committed = { seq: 1, pickups };
  // The first change converts the stored Record once; later ones share all but one path.
  const next = { seq: 2, pickups: setRow<Row>(committed.pickups, 'P123', { owner: 's1', n: -1 }) };
  const first = splitRows(next, ['pickups'], committed);
  assert.equal(first.changes, [{ table: 'pickups', id: 'P123', value: { owner: 's1', n: -1 } }]);
  assert.equal(first.head, { seq: 2 });
  const after = { seq: 3, pickups: deleteRow(setRow<Row>(next.pickups, 'P9', { owner: null, n: 9_000 }), 'P49999') };
  const changes = splitRows(after, ['pickups'], next).changes.sort((a, b) => a.id.localeCompare(b.id));
  assert.equal(changes, [
    { table: 'pickups', id: 'P49999', value: undefined },
    { table: 'pickups', id: 'P9', value: { owner: null, n: 9_000 } },
  ]);
  assert.is(splitRows(after, ['pickups']).changes.length, 49_999, 'a full write has every row');
  assert.is(committed.pickups.P123!.owner, null, 'the committed version is untouched');
});

test('a derived index answers for its own version only: built on first use, carried by later versions, never seen by older ones', () => {
  type Row = { box: string | null };
  const BY_BOX: RowIndex<Row> = { name: 'box', keyOf: (r) => r.box };
  let v1 = asTable<Row>({});
  for (let i = 0; i < 40; i++) v1 = setRow(v1, `r${i}`, { box: i % 4 === 0 ? 'A' : null });
  // Versions made before any index exists carry none; each builds its own on first use.
  const v2 = setRow(v1, 'r1', { box: 'A' });
  const ids = (t: Record<string, Row>) => Object.entries(t).filter(([, r]) => r.box === 'A').map(([id]) => id);
  assert.equal(rowsWhere(v2, BY_BOX, 'A'), ids(v2).map((id) => v2[id]));
  assert.is(rowsWhere(v2, BY_BOX, 'A').length, 11);
  // Later versions carry v2's index through sets and deletes that move rows in and out of a key.
  let v3 = setRow(v2, 'r0', { box: 'B' });
  v3 = deleteRow(v3, 'r4');
  v3 = setRow(v3, 'r99', { box: 'A' });
  assert.is(rowsWhere(v3, BY_BOX, 'A').length, 10);
  assert.equal(rowsWhere(v3, BY_BOX, 'B'), [{ box: 'B' }]);
  // The older versions are untouched by all of it.
  assert.is(rowsWhere(v1, BY_BOX, 'A').length, 10);
  assert.is(rowsWhere(v2, BY_BOX, 'A').length, 11);
  assert.equal(rowsWhere(v2, BY_BOX, 'B'), []);
});

test.run();
