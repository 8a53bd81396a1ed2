import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActorRecord } from '../../actors/runtime/types.js';
import { bucketOf } from '../../src/persistence/id-buckets.js';
import { openPersistence, type Persistence } from '../../src/persistence/keyv-persistence.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { storageBackends } from './backends.js';
import { startRedis, type RedisServer } from './redis-server.js';

// The index of the box's actors (what a restart brings back) is kept in 1,024 lists by a hash of
// the address, `actors:index:#<b>`: spawning or stopping an actor rewrites one list of about
// n / 1,024 addresses, not a list of every actor. A store written before (one list,
// `actors:index`) starts with every actor it had and is moved into the lists once.

/** The number of lists is part of the stored layout: a store written with one count is read with it. */
const INDEX_BUCKETS = 1024;
const indexKey = (address: string) => `actors:index:#${bucketOf(address, INDEX_BUCKETS)}`;

const record = (n: number): ActorRecord => ({ kind: 'pickup', ctx: { n }, timers: [], status: 'active' });
const addresses = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `pickup/P${from + i}`);
const spawn = (p: Persistence, list: string[]) => p.commit({ actors: list.map((address, i) => ({ address, record: record(i) })) });
const stop = (p: Persistence, list: string[]) => p.commit({ actors: list.map((address) => ({ address, deleted: true as const })) });
const naturally = (list: string[]) => [...list].sort(new Intl.Collator('en', { numeric: true }).compare);

/** Every index list as stored: bucket → addresses. */
async function storedIndex(p: Persistence): Promise<Map<number, string[]>> {
  const lists = await p.kv.getMany<string[]>(Array.from({ length: INDEX_BUCKETS }, (_, b) => `actors:index:#${b}`));
  return new Map(lists.flatMap((list, b) => (list ? [[b, list] as [number, string[]]] : [])));
}

/** Each stored list holds exactly the addresses that hash to it, and together they are `expected`. */
async function assertIndexHolds(p: Persistence, expected: string[]): Promise<void> {
  const lists = await storedIndex(p);
  for (const [b, list] of lists) {
    assert.ok(list.length > 0, `list #${b} is stored empty`);
    for (const address of list) assert.is(bucketOf(address, INDEX_BUCKETS), b, `${address} is in list #${b}`);
  }
  assert.equal(naturally([...lists.values()].flat()), naturally(expected));
}

const backends = storageBackends('ausgabebox-index-');

for (const backend of backends) {
  const name = `actor index (${backend.name})`;
  const test = backend.needs ? suiteNeeding(name, backend.needs) : suite(name);
  test.after(() => backend.teardown());

  test('spawned and stopped actors are as they were after a restart, each address in its own list', async () => {
    const url = await backend.url();
    const first = await openPersistence(url);
    await spawn(first, addresses(0, 3_000));
    await stop(first, addresses(1_000, 2_000));
    await spawn(first, ['pickup/P1500']);
    await stop(first, ['pickup/P7']);
    await first.close();

    const expected = [...addresses(0, 7), ...addresses(8, 1_000), 'pickup/P1500', ...addresses(2_000, 3_000)];
    const again = await openPersistence(url);
    const loaded = await again.loadActors();
    assert.equal([...loaded.keys()], naturally(expected), 'every live actor, in natural order, and no stopped one');
    assert.equal(loaded.get('pickup/P1500')!.ctx, { n: 0 });
    await assertIndexHolds(again, expected);
    await again.close();
  });

  test('a store written with one index list starts with every actor it had and keeps only the lists', async () => {
    const url = await backend.url();
    const old = await openPersistence(url);
    // As the previous version wrote it: one list of every address.
    const had = [...addresses(0, 500), 'registry', 'compartment/A01'];
    await old.kv.set('actors:index', had);
    for (const [i, address] of had.entries()) await old.kv.set(`actor:${address}`, record(i));
    await old.close();

    const p = await openPersistence(url);
    assert.equal([...(await p.loadActors()).keys()], naturally(had));
    assert.is(await p.kv.get('actors:index'), undefined, 'the old list is gone');
    await assertIndexHolds(p, had);
    await spawn(p, ['pickup/P500']);
    await stop(p, ['pickup/P0']);
    await p.close();

    const again = await openPersistence(url);
    const now = [...had.filter((a) => a !== 'pickup/P0'), 'pickup/P500'];
    assert.equal([...(await again.loadActors()).keys()], naturally(now));
    await assertIndexHolds(again, now);
    await again.close();
  });

  test('a commit before the first load moves the old index list in its own transaction', async () => {
    const url = await backend.url();
    const old = await openPersistence(url);
    await old.kv.set('actors:index', addresses(0, 50));
    for (const [i, address] of addresses(0, 50).entries()) await old.kv.set(`actor:${address}`, record(i));
    await old.close();

    const p = await openPersistence(url);
    await spawn(p, ['pickup/P50']);
    assert.is(await p.kv.get('actors:index'), undefined, 'the old list went with the spawn');
    await assertIndexHolds(p, addresses(0, 51));
    await p.close();
    const again = await openPersistence(url);
    assert.equal([...(await again.loadActors()).keys()], addresses(0, 51));
    await again.close();
  });

  test('stopping an actor removes it from its list and leaves the others of that list', async () => {
    const url = await backend.url();
    const p = await openPersistence(url);
    const all = addresses(0, 5_000);
    await spawn(p, all);
    const gone = 'pickup/P4321';
    const neighbours = all.filter((a) => a !== gone && indexKey(a) === indexKey(gone));
    assert.ok(neighbours.length > 0, 'the list holds other addresses too');
    await stop(p, [gone]);
    assert.equal(naturally((await p.kv.get<string[]>(indexKey(gone)))!), neighbours);
    assert.is(await p.kv.get(`actor:${gone}`), undefined);
    await p.close();
  });

  test.run();
}

// What a commit writes, seen by the store itself.

const sqlite = suite('actor index: keys a commit writes (sqlite)');
const dirs: string[] = [];
sqlite.after(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Records every row the commits write into keyv's table (key, bytes), by triggers on the box's own connection. */
async function recordWrites(p: Persistence): Promise<() => Promise<Array<{ key: string; bytes: number | null }>>> {
  const q = p.query!;
  await q('CREATE TEMP TABLE written(key TEXT, bytes INTEGER)');
  await q('CREATE TEMP TRIGGER written_insert AFTER INSERT ON main.keyv BEGIN INSERT INTO written VALUES(new.key, length(new.value)); END');
  await q('CREATE TEMP TRIGGER written_update AFTER UPDATE ON main.keyv BEGIN INSERT INTO written VALUES(new.key, length(new.value)); END');
  await q('CREATE TEMP TRIGGER written_delete AFTER DELETE ON main.keyv BEGIN INSERT INTO written VALUES(old.key, NULL); END');
  return async () => {
    const rows = (await q('SELECT key, bytes FROM written')) as Array<{ key: string; bytes: number | null }>;
    await q('DELETE FROM written');
    return rows.map((r) => ({ key: r.key.replace(/^box:/, ''), bytes: r.bytes })).sort((a, b) => (a.key < b.key ? -1 : 1));
  };
}

sqlite('spawning one actor among 50,000 writes its record and one list of about 50 addresses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-index-'));
  dirs.push(dir);
  const p = await openPersistence(`sqlite://${join(dir, 'box.sqlite')}`);
  const all = addresses(0, 50_000);
  await spawn(p, all);
  const written = await recordWrites(p);

  await spawn(p, ['pickup/P50000']);
  const rows = await written();
  assert.equal(rows.map((r) => r.key), ['actor:pickup/P50000', indexKey('pickup/P50000')]);
  const list = rows[1]!;
  // One list of every address (the previous layout) would be ~850 kB here.
  const everyAddress = JSON.stringify({ value: all }).length;
  assert.ok(list.bytes! < 2_500, `the list written is ${list.bytes} bytes`);
  assert.ok(list.bytes! * 200 < everyAddress, `${list.bytes} bytes against ${everyAddress} for a list of every address`);

  await stop(p, ['pickup/P123']);
  assert.equal((await written()).map((r) => [r.key, r.bytes === null]), [
    ['actor:pickup/P123', true],
    [indexKey('pickup/P123'), false],
  ]);
  // An actor saved again (no spawn) leaves the index alone.
  await p.commit({ actors: [{ address: 'pickup/P9', record: record(99) }] });
  assert.equal((await written()).map((r) => r.key), ['actor:pickup/P9']);
  await p.close();
});

const onRedis = suiteNeeding<{ server?: RedisServer }>('actor index: one MULTI/EXEC per commit (redis)', [REDIS], {});
onRedis.after(async (ctx) => {
  await ctx.server?.stop();
});

/** The commands Redis ran inside each MULTI … EXEC while `fn` ran, seen through MONITOR. */
async function transactions(url: string, fn: () => Promise<void>): Promise<Array<Array<[command: string, key: string]>>> {
  const monitor = createClient({ url });
  await monitor.connect();
  const lines: string[] = [];
  await monitor.monitor((line) => void lines.push(String(line)));
  try {
    await fn();
    // MONITOR reports a command after it ran: wait until the last EXEC has come through.
    for (let i = 0; i < 100 && !lines.some((l) => / "EXEC"$/.test(l)); i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    await monitor.close();
  }
  const out: Array<Array<[string, string]>> = [];
  let open: Array<[string, string]> | null = null;
  for (const line of lines) {
    const [, command = '', key = ''] = /\] "(\w+)"(?: "([^"]*)")?/.exec(line) ?? [];
    if (command === 'MULTI') open = [];
    else if (command === 'EXEC' && open) out.push(open), (open = null);
    else if (open) open.push([command, key]);
  }
  return out;
}

onRedis('a spawn among 5,000 actors is one MULTI/EXEC: the record, one index list and the commit marker', async (ctx) => {
  ctx.server ??= await startRedis();
  const url = `${ctx.server.url}/1`;
  const p = await openPersistence(url);
  await spawn(p, addresses(0, 5_000));
  const seen = await transactions(url, () => spawn(p, ['pickup/P5000']));
  assert.equal(seen, [
    [
      ['SET', 'box::actor:pickup/P5000'],
      ['SET', `box::${indexKey('pickup/P5000')}`],
      ['SET', 'box::commit:last'],
    ],
  ]);
  await p.close();
});

onRedis('the move of an old index list is one MULTI/EXEC that also deletes the old list', async (ctx) => {
  ctx.server ??= await startRedis();
  const url = `${ctx.server.url}/2`;
  const old = await openPersistence(url);
  const had = addresses(0, 20);
  await old.kv.set('actors:index', had);
  for (const [i, address] of had.entries()) await old.kv.set(`actor:${address}`, record(i));
  await old.close();

  const p = await openPersistence(url);
  const seen = await transactions(url, async () => void (await p.loadActors()));
  assert.is(seen.length, 1, 'one transaction');
  const [move] = seen;
  assert.equal(move!.filter(([command]) => command === 'UNLINK'), [['UNLINK', 'box::actors:index']]);
  const lists = new Set(had.map((a) => `box::${indexKey(a)}`));
  assert.equal(new Set(move!.filter(([command]) => command === 'SET').map(([, key]) => key)), new Set([...lists, 'box::commit:last']));
  await p.close();
});

sqlite.run();
onRedis.run();
