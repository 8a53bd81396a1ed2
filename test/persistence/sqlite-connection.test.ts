import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActorRecord } from '../../actors/runtime/types.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { ConnectionGate, retryBusy, SQLITE_BUSY_TIMEOUT_MS } from '../../src/persistence/sqlite-connection.js';

// The box's SQLite connection is shared by its commits and by everything else that reaches the file
// (claims, the archive, the fleet outbox, the health probe). A statement sent while a commit's
// transaction is open would run inside it and share its fate.

const test = suite('SQLite connection');

let dir = '';
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'ausgabebox-conn-'));
});
test.after.each(() => {
  rmSync(dir, { recursive: true, force: true });
});

const record = (ctx: unknown): ActorRecord => ({ kind: 'probe', ctx, timers: [], status: 'active' });
/** A commit that fails halfway, after its transaction has begun: a BigInt cannot be stored. */
const failingCommit = { actors: [{ address: 'probe/1', record: record({ n: 1n }) }] };
/** `fn` once the commit's transaction has begun on the connection. */
const whileCommitting = async <T>(fn: () => Promise<T>): Promise<T> => {
  await new Promise((resolve) => setImmediate(resolve));
  return fn();
};

test('a claim made while a commit fails is not rolled back with that commit', async () => {
  const file = join(dir, 'box.sqlite');
  const p = await openPersistence(`sqlite://${file}`);
  const [commit, claim] = await Promise.allSettled([p.commit(failingCommit), whileCommitting(() => p.claimOnce('compartment:A01', 'load-1'))]);
  assert.is(commit.status, 'rejected');
  assert.is((commit as PromiseRejectedResult).reason.code, 'STORAGE_UNAVAILABLE');
  assert.equal(claim, { status: 'fulfilled', value: true });
  await p.close();
  // Another process opening the file finds the claim held.
  const other = await openPersistence(`sqlite://${file}`);
  assert.is(await other.claimOnce('compartment:A01', 'load-2'), false, 'the claim survived the rolled-back commit');
  await other.close();
});

test('a write through the handed-out keyv during a failing commit is kept (the archive, the fleet outbox)', async () => {
  const file = join(dir, 'box.sqlite');
  const p = await openPersistence(`sqlite://${file}`);
  const [commit, archived] = await Promise.allSettled([p.commit(failingCommit), whileCommitting(() => p.kv.set('archive:V-1', { reference: 'V-1', state: 'COLLECTED' }))]);
  assert.is(commit.status, 'rejected');
  assert.is(archived.status, 'fulfilled');
  await p.close();
  const again = await openPersistence(`sqlite://${file}`);
  assert.equal(await again.kv.get('archive:V-1'), { reference: 'V-1', state: 'COLLECTED' });
  assert.is((await again.loadActors()).size, 0, 'nothing of the failed commit');
  await again.close();
});

test('a commit of 1,200 rows (several multi-row statements) reads back whole, also after a restart', async () => {
  const file = join(dir, 'box.sqlite');
  const p = await openPersistence(`sqlite://${file}`);
  const rows = Array.from({ length: 1_200 }, (_, i) => ({ table: 'items', id: `i${i}`, value: { n: i, text: `row ${i} with "quotes" and ü` } }));
  await p.commit({ actors: [{ address: 'big/1', record: { ...record({ head: true }), tables: ['items'] }, rows: { changes: rows, full: true } }] });
  // Half of them removed in the next commit: deletes go in chunks too.
  const removed = rows.filter((_, i) => i % 2 === 0).map((r) => ({ ...r, value: undefined }));
  await p.commit({ actors: [{ address: 'big/1', record: { ...record({ head: true }), tables: ['items'] }, rows: { changes: removed, full: false } }] });
  await p.close();
  const again = await openPersistence(`sqlite://${file}`);
  const loaded = (await again.loadActors()).get('big/1')!;
  const items = (loaded.ctx as { items: Record<string, { n: number; text: string }> }).items;
  assert.is(Object.keys(items).length, 600);
  assert.equal(items.i1, { n: 1, text: 'row 1 with "quotes" and ü' });
  assert.is(items.i0, undefined);
  assert.equal(await again.kv.get('row:big/1:items:i1199'), { n: 1199, text: 'row 1199 with "quotes" and ü' });
  await again.close();
});

test('the gate: a transaction waits for statements already running outside, and later ones wait for it', async () => {
  const gate = new ConnectionGate();
  const order: string[] = [];
  let finishOutside!: () => void;
  const before = gate.outside(async () => {
    order.push('outside 1 starts');
    await new Promise<void>((resolve) => (finishOutside = resolve));
    order.push('outside 1 ends');
  });
  const tx = gate.exclusive(async () => {
    order.push('transaction');
    await new Promise((resolve) => setTimeout(resolve, 5));
    order.push('transaction ends');
  });
  const after = gate.outside(async () => void order.push('outside 2'));
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(order, ['outside 1 starts'], 'nothing runs while the first outside statement holds the connection for the transaction');
  finishOutside();
  await Promise.all([before, tx, after]);
  assert.equal(order, ['outside 1 starts', 'outside 1 ends', 'transaction', 'transaction ends', 'outside 2']);
});

test('a statement while another connection holds the write lock waits for it (real clock), well past the short busy timeout', async () => {
  const file = join(dir, 'box.sqlite');
  const p = await openPersistence(`sqlite://${file}`);
  const other = await openPersistence(`sqlite://${file}`);
  try {
    await other.query!('BEGIN IMMEDIATE');
    const holdMs = 300;
    const released = new Promise<void>((resolve) => setTimeout(() => void other.query!('COMMIT').then(() => resolve()), holdMs));
    const t0 = performance.now();
    assert.is(await p.claimOnce('compartment:A01', 'load-1'), true, 'the claim went through once the lock was free');
    const ms = performance.now() - t0;
    await released;
    assert.ok(ms >= holdMs - 50, `it waited for the lock (${Math.round(ms)} ms)`);
    assert.ok(ms > SQLITE_BUSY_TIMEOUT_MS * 4, 'longer than SQLite\'s own busy wait: retried from JavaScript');
    assert.ok(ms < 3_000, `and not much longer (${Math.round(ms)} ms)`);
    assert.is(await other.claimOnce('compartment:A01', 'load-2'), false, 'the other connection sees it');
  } finally {
    await other.close();
    await p.close();
  }
});

test('retryBusy repeats only SQLITE_BUSY, and gives up at its deadline', async () => {
  const busy = () => Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
  let calls = 0;
  assert.is(await retryBusy(async () => (++calls < 3 ? Promise.reject(busy()) : 'done')), 'done');
  assert.is(calls, 3, 'tried again until it went through');
  calls = 0;
  const full = Object.assign(new Error('SQLITE_FULL'), { code: 'SQLITE_FULL' });
  const other = await retryBusy(async () => {
    calls++;
    throw full;
  }).catch((e: unknown) => e);
  assert.is(other, full);
  assert.is(calls, 1, 'another error is not repeated');
  const t0 = performance.now();
  const late = await retryBusy(() => Promise.reject(busy()), 100).catch((e: { code?: string }) => e.code);
  const ms = performance.now() - t0;
  assert.is(late, 'SQLITE_BUSY', 'still locked at the deadline: the busy error');
  assert.ok(ms >= 100 && ms < 1_000, `gave up at the deadline (${Math.round(ms)} ms)`);
});

test.run();
