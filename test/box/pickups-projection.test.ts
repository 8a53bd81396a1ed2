import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type RegistryCtx, type RegistryEvent } from '../../actors/registry.js';
import { PICKUP_PREFIX, REGISTRY, pickupAddress } from '../../actors/messages.js';
import { pickupActor, type PickupEvent } from '../../actors/pickup-actor.js';
import { PICKUP_ROW, pickupRowEvent, type Pickup } from '../../actors/pickup.js';
import type { Stamp } from '../../actors/runtime/define.js';
import type { BoxEvent, Effect } from '../../actors/runtime/types.js';
import { registryCrypto } from '../../src/crypto.js';
import { PickupsProjection } from '../../src/pickups-projection.js';
import { PHONE, readyPickup, register, testBox } from '../helpers.js';
import { TEST_PIN_KEY, TEST_POLICY, registryUnderTest } from '../security/registry-rig.js';

/** The read model alone: rows in, reads out, kept by row events only. */

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

function pickup(id: string, reference: string, status: Pickup['status'], extra: Partial<Pickup> = {}): Pickup {
  return {
    id, reference, documentKind: 'ID_CARD', documents: 1, accessible: false, status,
    phone: '+4915228817386', birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: status === 'READY', pinQueued: true,
    compartmentId: status === 'READY' ? 'A01' : null, failedAttempts: 0, claim: null, opId: null, createdAt: NOW, updatedAt: NOW, readyAt: null,
    expiresAt: null, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false, ...extra,
  };
}

test('built from the committed rows (the pickup actors\' and the registry\'s of an earlier version): found by id and by reference, listed in order, counted by status, without a PIN hash a row saved before the auth actor carries', () => {
  const legacy = { ...pickup('P1', 'V-1', 'READY'), pinHash: 'h'.repeat(64) } as Pickup;
  const projection = PickupsProjection.of([legacy, pickup('P2', 'V-2', 'REGISTERED'), pickup('P3', 'V-3', 'READY')]);
  assert.is(projection.size, 3);
  assert.is(projection.byReference(' V-2 ')?.id, 'P2', 'a reference with blanks around it is found, as the registry finds it');
  assert.is(projection.byId('P3')?.reference, 'V-3');
  assert.is(projection.byReference('V-9'), undefined);
  assert.equal([...projection.all()].map((p) => p.id), ['P1', 'P2', 'P3'], 'registration order');
  assert.equal(projection.byStatus(), { READY: 2, REGISTERED: 1 });
  assert.not.ok('pinHash' in projection.byId('P1')!, 'the PIN hash is left out of the rows');
  assert.equal(projection.byId('P1'), pickup('P1', 'V-1', 'READY'), 'everything else is the row as its owner holds it');
});

test('a row event replaces the row whole and moves its count; other events change nothing', () => {
  const projection = PickupsProjection.of([pickup('P1', 'V-1', 'READY'), pickup('P2', 'V-2', 'READY')]);
  projection.apply(pickupRowEvent('P1', pickup('P1', 'V-1', 'LOCKED', { failedAttempts: 5, updatedAt: NOW + 1 })));
  assert.is(projection.byReference('V-1')!.status, 'LOCKED');
  assert.is(projection.byReference('V-1')!.failedAttempts, 5);
  assert.equal(projection.byStatus(), { READY: 1, LOCKED: 1 });
  projection.apply({ type: 'pickup.changed', change: 'collected', reference: 'V-2', status: 'COLLECTED', compartmentId: null });
  assert.is(projection.byReference('V-2')!.status, 'READY', 'the public change event is not what the projection reads');
  assert.equal([...projection.all()].map((p) => p.id), ['P1', 'P2'], 'a replaced row keeps its place');
});

test('a row that leaves (its pickup archived) leaves the projection, with its reference and its count', () => {
  const projection = PickupsProjection.of([pickup('P1', 'V-1', 'COLLECTED'), pickup('P2', 'V-2', 'READY')]);
  projection.apply({ type: PICKUP_ROW, id: 'P1', row: null });
  assert.is(projection.byId('P1'), undefined);
  assert.is(projection.byReference('V-1'), undefined);
  assert.is(projection.size, 1);
  assert.equal(projection.byStatus(), { READY: 1 }, 'a status nobody has any more is not listed');
  projection.apply({ type: PICKUP_ROW, id: 'P9', row: null });
  assert.is(projection.size, 1, 'the leaving of an unknown row changes nothing');
});

test("the registry's and the pickup actors' own effects keep a projection equal to their rows: register, load, cancel, archive", () => {
  const registry = registryUnderTest();
  const pickupBehavior = pickupActor(TEST_POLICY, registryCrypto(TEST_PIN_KEY), { claimOnce: async () => true, release: async () => {} }, { archive: async () => {} });
  let ctx: RegistryCtx = registry.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'registry');
  /** The pickup actors the registry spawned and that have not stopped, by address: each one's context is its row. */
  const actors = new Map<string, Pickup>();
  const projection = PickupsProjection.of(Object.values(ctx.pickups));
  let published = 0;
  /**
   * One message to `to` (the registry or a pickup's actor), and what it makes happen among them,
   * as the supervisor would run it: spawns (then `started`), messages to the registry or a pickup, stops. Every row
   * event published on the way is applied to the projection.
   */
  const deliver = (to: string, event: (RegistryEvent | PickupEvent) & Partial<Stamp>) => {
    const queue: Array<{ to: string; event: (RegistryEvent | PickupEvent) & Partial<Stamp> }> = [{ to, event }];
    while (queue.length > 0) {
      const { to: at, event: e } = queue.shift()!;
      let effects: Effect<unknown>[];
      if (at === REGISTRY) {
        const next = registry.step(ctx, e as RegistryEvent);
        ctx = next.ctx;
        effects = next.effects;
      } else {
        const row = actors.get(at);
        assert.ok(row, `${at} is spawned and not stopped when ${e.type} comes`);
        const next = pickupBehavior.step(row, e as PickupEvent);
        actors.set(at, next.ctx);
        effects = next.effects;
      }
      for (const x of effects) {
        if (x.type === 'publish' && x.event.type === PICKUP_ROW) (projection.apply(x.event), published++);
        if (x.type === 'spawn') {
          actors.set(x.address, pickupBehavior.init(x.input, x.address));
          queue.push({ to: x.address, event: { type: 'started', now: e.now } });
        }
        if (x.type === 'send' && (x.to === REGISTRY || x.to.startsWith(PICKUP_PREFIX))) queue.push({ to: x.to, event: { ...(x.message as PickupEvent), now: e.now } });
        if (x.type === 'stop') actors.delete(at);
      }
    }
  };
  const request = { requestId: 'r', replyTo: 'replies' } as const;
  deliver(REGISTRY, { type: 'pickup.register', input: { reference: 'V-1', documentKind: 'ID_CARD', phone: '+4915228817386', birthDate: '1980-04-12' }, ...request, now: NOW });
  deliver(REGISTRY, { type: 'pickup.register', input: { reference: 'V-2', documentKind: 'PASSPORT', phone: '+4915228817387', birthDate: '1980-04-12' }, ...request, now: NOW });
  assert.equal([...actors.keys()], [pickupAddress('P1'), pickupAddress('P2')], 'each registration spawned its pickup');
  // Staff commands by reference go through the registry, which passes them on to the pickup.
  deliver(REGISTRY, { type: 'pickup.load', reference: 'V-1', by: 'anna', ...request, now: NOW + 1 });
  deliver(pickupAddress('P1'), { type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A01', by: 'anna', ...request, now: NOW + 2 });
  deliver(REGISTRY, { type: 'pickup.cancel', reference: 'V-2', by: 'anna', ...request, now: NOW + 3 });
  deliver(pickupAddress('P2'), { type: 'pickup.purge', pickupId: 'P2', now: NOW + 4 });
  const rows = (list: Iterable<object>) => [...list].map((p) => JSON.parse(JSON.stringify(p)) as Record<string, unknown>);
  const committed = rows([...Object.values(ctx.pickups), ...actors.values()]).map(({ pinHash: _h, ...row }) => row);
  assert.equal(committed.map((r) => `${r.reference as string} ${r.status as string}`), ['V-1 LOADING', 'V-2 CANCELLED'], 'the pickups changed as the steps meant');
  assert.equal(rows(projection.all()), committed, 'every row as committed, before the archive');
  deliver(pickupAddress('P2'), { type: 'pickup.archived', pickupId: 'P2', now: NOW + 5 });
  assert.equal([...actors.keys()], [pickupAddress('P1')], 'the archived pickup stopped');
  assert.equal([ctx.live, ctx.byReference], [{ P1: true }, { 'V-1': 'P1', 'V-2': 'P2' }], 'it left the live ones; its reference stays');
  assert.equal([...projection.all()].map((p) => `${p.reference} ${p.status}`), ['V-1 LOADING'], 'the archived pickup left');
  assert.equal(projection.byStatus(), { LOADING: 1 });
  assert.is(published, 7, 'one row event per row change: two registrations, load, claim, cancel, purge, archive');
});

test("the row events stay inside the box: the public event stream has the change, not the row with its personal data", async () => {
  const t = await testBox();
  const inside: BoxEvent[] = [];
  const outside: BoxEvent[] = [];
  const stopInside = t.box.supervisor.events.listen((e) => inside.push(e));
  const stopOutside = t.box.events.listen((e) => outside.push(e));
  const iterated = t.box.events.iterate();
  try {
    await readyPickup(t, 'V-ROW-1');
    assert.ok(inside.some((e) => e.type === PICKUP_ROW), 'the registry and the pickup published rows');
    assert.not.ok(inside.some((e) => e.type === PICKUP_ROW && e.row !== null && 'pinHash' in (e.row as object)), 'never with the PIN hash');
    assert.equal(outside.filter((e) => e.type === 'pickup.changed').map((e) => e.change), ['registered', 'loading', 'ready']);
    assert.equal(outside.filter((e) => e.type === PICKUP_ROW), [], 'listeners of box.events do not get them');
    const first = await iterated.next();
    assert.is((first.value as BoxEvent).type, 'pickup.changed', 'nor do its iterators (subscriptions): the first event they get is the registration');
    assert.not.ok(JSON.stringify(outside).includes(PHONE), 'the public stream never carries the number');
  } finally {
    stopInside();
    stopOutside();
    await iterated.return?.();
    await t.box.close();
  }
});

test('box.pickups(keep) gives the copies of the pickups `keep` keeps, in registration order, as the filtered whole list', async () => {
  const t = await testBox();
  try {
    await readyPickup(t, 'V-KEEP-1');
    await register(t.box, 'V-KEEP-2', { phone: '0152 28817390' });
    await readyPickup(t, 'V-KEEP-3', { phone: '0152 28817391' });
    const asked: string[] = [];
    const ready = t.box.pickups((p) => (asked.push(p.reference), p.status === 'READY'));
    assert.equal(asked, ['V-KEEP-1', 'V-KEEP-2', 'V-KEEP-3'], 'every live pickup is asked about once, in order');
    assert.equal(ready.map((p) => p.reference), ['V-KEEP-1', 'V-KEEP-3']);
    assert.equal(ready, t.box.pickups().filter((p) => p.status === 'READY'), 'the same rows as filtering the whole list');
    (ready[0] as { status: string }).status = 'COLLECTED';
    assert.is(t.box.pickup('V-KEEP-1')!.status, 'READY', 'what it gives are copies');
  } finally {
    await t.box.close();
  }
});

test.run();
