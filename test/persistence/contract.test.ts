import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { auditHash, openPersistence } from '../../src/persistence/keyv-persistence.js';
import { suiteNeeding } from '../support/requires.js';
import { storageBackends } from './backends.js';

// One contract for every storage backend: what the box needs from persistence, on SQLite (a real
// file), on a real redis-server on 127.0.0.1, and in memory.

const backends = storageBackends('ausgabebox-contract-', { memory: true });

for (const backend of backends) {
  const name = `persistence contract (${backend.name})`;
  const test = backend.needs ? suiteNeeding(name, backend.needs) : suite(name);
  test.after(() => backend.teardown());

  test('an actor record is saved, listed and loaded as it was', async () => {
    const p = await openPersistence(await backend.url(), { namespace: `t${Date.now()}` });
    await p.saveActor('compartment/A01', { kind: 'compartment', ctx: { state: 'free', n: 1 }, timers: [], status: 'active' });
    await p.saveActor('registry', { kind: 'registry', ctx: { pickups: { P1: { reference: 'V-1' } } }, timers: [{ key: 't', at: 5, message: { type: 'x' } }], status: 'active' });
    await p.saveActor('compartment/A01', { kind: 'compartment', ctx: { state: 'occupied', n: 2 }, timers: [], status: 'active' });
    const loaded = await p.loadActors();
    assert.equal([...loaded.keys()].sort(), ['compartment/A01', 'registry']);
    assert.equal(loaded.get('compartment/A01')!.ctx, { state: 'occupied', n: 2 });
    assert.equal(loaded.get('registry')!.timers, [{ key: 't', at: 5, message: { type: 'x' } }]);
    await p.close();
  });

  test('an actor with tables writes only changed rows and loads whole again', async () => {
    const { splitRows } = await import('../../actors/runtime/rows.js');
    const url = await backend.url();
    const namespace = `t${Date.now()}`;
    let p = await openPersistence(url, { namespace });
    const tables = ['pickups'] as const;
    const v1 = { seq: 2, pickups: { P1: { status: 'READY' }, P2: { status: 'REGISTERED' } } };
    const first = splitRows(v1, tables);
    await p.saveActor('registry', { kind: 'registry', ctx: first.head, timers: [], status: 'active', tables }, { changes: first.changes, full: true });
    const v2 = { seq: 3, pickups: { P1: v1.pickups.P1, P3: { status: 'REGISTERED' } } };
    const next = splitRows(v2, tables, v1);
    assert.equal(next.changes, [
      { table: 'pickups', id: 'P3', value: { status: 'REGISTERED' } },
      { table: 'pickups', id: 'P2', value: undefined },
    ], 'P1 is unchanged and not written');
    await p.saveActor('registry', { kind: 'registry', ctx: next.head, timers: [], status: 'active', tables }, { changes: next.changes, full: false });
    if (backend.durable) {
      await p.close();
      p = await openPersistence(url, { namespace });
    }
    assert.equal((await p.loadActors()).get('registry')!.ctx, v2);
    await p.close();
  });

  test('a deleted actor is gone from the list', async () => {
    const p = await openPersistence(await backend.url(), { namespace: `t${Date.now()}` });
    await p.saveActor('session/1-1', { kind: 'session', ctx: {}, timers: [], status: 'active' });
    await p.deleteActor('session/1-1');
    assert.equal([...(await p.loadActors()).keys()], []);
    await p.close();
  });

  test('the audit log appends in order with an unbroken hash chain', async () => {
    const p = await openPersistence(await backend.url(), { namespace: `t${Date.now()}` });
    await Promise.all([1, 2, 3, 4, 5].map((i) => p.appendAudit({ action: `a${i}`, at: i, by: 'registry', causation: null })));
    const records = await p.readAudit();
    assert.equal(records.map((r) => r.seq), [1, 2, 3, 4, 5]);
    assert.equal(records.map((r) => r.action), ['a1', 'a2', 'a3', 'a4', 'a5']);
    for (const r of records) {
      const { hash, prevHash, ...entry } = r;
      assert.is(auditHash(prevHash, entry), hash);
    }
    assert.is((await p.auditHead()).hash, records[4]!.hash);
    await p.close();
  });

  test('a claim is won exactly once, even by many at the same time', async () => {
    const p = await openPersistence(await backend.url(), { namespace: `t${Date.now()}` });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => p.claimOnce('pin:V-1:1', `session-${i}`)));
    assert.is(results.filter(Boolean).length, 1);
    const winner = `session-${results.indexOf(true)}`;
    assert.is(await p.claimOnce('pin:V-1:1', winner), true, 'the holder asking again is told it holds it');
    assert.is(await p.claimOnce('pin:V-1:1', winner === 'session-0' ? 'session-1' : 'session-0'), false, 'anybody else is refused');
    await p.close();
  });

  test('only the holder can give a claim back', async () => {
    const p = await openPersistence(await backend.url(), { namespace: `t${Date.now()}` });
    assert.ok(await p.claimOnce('compartment:A01', 'P1'));
    await p.release('compartment:A01', 'P2');
    assert.is(await p.claimOnce('compartment:A01', 'P3'), false, 'a stranger cannot release it');
    await p.release('compartment:A01', 'P1');
    assert.ok(await p.claimOnce('compartment:A01', 'P3'));
    await p.close();
  });

  if (backend.durable) {
    test('what was written is there after reopening the store', async () => {
      const url = await backend.url();
      const namespace = `t${Date.now()}`;
      let p = await openPersistence(url, { namespace });
      await p.saveActor('registry', { kind: 'registry', ctx: { seq: 7 }, timers: [], status: 'active' });
      await p.appendAudit({ action: 'pickup.registered', at: 1, by: 'registry', causation: null });
      assert.ok(await p.claimOnce('pin:V-9:1', 's1'));
      await p.close();
      p = await openPersistence(url, { namespace });
      assert.equal((await p.loadActors()).get('registry')!.ctx, { seq: 7 });
      assert.is((await p.readAudit()).length, 1);
      assert.is(await p.claimOnce('pin:V-9:1', 's2'), false, 'the claim survived');
      await p.close();
    });
  }

  test.run();
}
