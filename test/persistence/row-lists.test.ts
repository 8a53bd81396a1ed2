import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActorRecord } from '../../actors/runtime/types.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';

// An actor with tables (the registry's pickups) is stored row by row, with lists of its row ids so
// that it can be loaded again. Those lists are kept in 256 buckets by a hash of the id: adding a
// row rewrites one short list, not a list of every row.

const head = (): ActorRecord => ({ kind: 'big', ctx: { head: true }, timers: [], status: 'active', tables: ['items'] });
const rows = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ table: 'items', id: `item-${from + i}`, value: { n: from + i } }));

test('adding one row to a table of 5,000 rewrites the row, the actor and one short id list', async () => {
  const p = await openPersistence('memory:');
  await p.commit({ actors: [{ address: 'big/1', record: head(), rows: { changes: rows(0, 5_000), full: true } }] });
  // What the commit writes into keyv's store (a Map here: `box:<key>` → `{"value":…}`).
  const written: Array<{ key: string; value: unknown }> = [];
  const store = p.kv.store as Map<string, string>;
  const set = store.set.bind(store);
  store.set = (key: string, value: string) => {
    written.push({ key: key.replace(/^box:/, ''), value: (JSON.parse(value) as { value: unknown }).value });
    return set(key, value);
  };
  await p.commit({ actors: [{ address: 'big/1', record: head(), rows: { changes: rows(5_000, 5_001), full: false } }] });
  assert.equal(written.map((w) => w.key.replace(/#\d+$/, '#b')).sort(), ['actor:big/1', 'row:big/1:items:item-5000', 'rows:big/1:items:#b']);
  const list = written.find((w) => w.key.startsWith('rows:'))!.value as string[];
  assert.ok(list.includes('item-5000'));
  assert.ok(list.length < 60, `the list rewritten holds ${list.length} ids, about 5,000 / 256`);
  await p.close();
});

test('lists written before the buckets are read and moved into buckets once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-rows-'));
  const url = `sqlite://${join(dir, 'box.sqlite')}`;
  try {
    // The layout of an earlier version: one list of every row id.
    const old = await openPersistence(url);
    await old.kv.set('actors:index', ['big/1']);
    await old.kv.set('actor:big/1', { ...head(), tables: ['items'] });
    await old.kv.set('rows:big/1:items', ['a10', 'a2', 'a1']);
    for (const id of ['a10', 'a2', 'a1']) await old.kv.set(`row:big/1:items:${id}`, { id });
    await old.close();

    const p = await openPersistence(url);
    const loaded = (await p.loadActors()).get('big/1')!;
    assert.equal(Object.keys((loaded.ctx as { items: object }).items), ['a1', 'a2', 'a10'], 'every row, in natural order');
    assert.is(await p.kv.get('rows:big/1:items'), undefined, 'the old list is gone');
    await p.commit({ actors: [{ address: 'big/1', record: head(), rows: { changes: [{ table: 'items', id: 'a3', value: { id: 'a3' } }], full: false } }] });
    await p.close();

    const again = await openPersistence(url);
    const items = ((await again.loadActors()).get('big/1')!.ctx as { items: Record<string, unknown> }).items;
    assert.equal(Object.keys(items), ['a1', 'a2', 'a3', 'a10']);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
