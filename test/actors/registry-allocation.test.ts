import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Slot } from '../../actors/allocation.js';
import type { Pickup } from '../../actors/pickup.js';
import type { PickupEvent } from '../../actors/pickup-actor.js';
import type { RegistryCtx, RegistryEvent } from '../../actors/registry.js';
import type { Stamp } from '../../actors/runtime/define.js';
import type { Effect } from '../../actors/runtime/types.js';
import { pickupUnderTest, registryUnderTest, spawnedRow } from '../security/registry-rig.js';

// A pickup (its own actor, `pickup/<id>`) asks the allocation actor for a compartment and tells it
// when one is free; neither it nor the registry keeps a copy of the slots. Two things must still be
// got right: a claim the pickup no longer needs is given back without giving back the compartment
// it is in, and, in the one start after an upgrade from the version that kept the slots in the
// registry, whatever the registry frees for a pickup of its table (an earlier version's row)
// before it has handed the slots over is freed in what it hands over (the allocation actor does not
// exist yet to be told).

const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const request = { requestId: 'r', replyTo: 'replies' } as const;
const registry = registryUnderTest();
const pickup = pickupUnderTest();

type Effects = ReadonlyArray<Effect<unknown>>;

/** The pickup's own actor, stepped through `events` from its row. */
function drive(row: Pickup, events: Array<PickupEvent & Partial<Stamp>>) {
  let effects: Effects = [];
  for (const event of events) ({ ctx: row, effects } = pickup.step(row, { now: NOW, ...event }));
  return { row, effects };
}

/** The registry, stepped through `events`. */
function driveRegistry(ctx: RegistryCtx, events: Array<RegistryEvent & Partial<Stamp>>) {
  let effects: Effects = [];
  for (const event of events) ({ ctx, effects } = registry.step(ctx, { now: NOW, ...event }));
  return { ctx, effects };
}

const sends = (effects: Effects) =>
  effects.flatMap((e) => (e.type === 'send' ? [[e.to, e.message.type === 'free' ? `free ${(e.message as unknown as { compartmentId: string }).compartmentId}` : e.message.type]] : []));

/** The reply among `effects`. */
const replyIn = (effects: Effects) => {
  const sent = effects.find((e) => e.type === 'send' && e.to === 'replies');
  return (sent as unknown as { message: { ok: boolean; requestId: string } }).message;
};

/** The slots the registry hands over to a new allocation actor. */
function handedOver(ctx: RegistryCtx): Record<string, Partial<Slot>> {
  const adopt = registry.step(ctx, { type: 'allocation.started', now: NOW }).effects.find((e) => e.type === 'send' && e.message.type === 'allocation.adopt');
  return (adopt as unknown as { message: { slots: Record<string, Partial<Slot>> } }).message.slots;
}

/** `reference` registered at the registry (`ctx`): the registry after it, and the row its actor was spawned with at `address`. */
function register(ctx: RegistryCtx, reference: string, phone: string, address: string) {
  const registered = registry.step(ctx, { type: 'pickup.register', input: { reference, documentKind: 'ID_CARD', phone, birthDate: '1980-04-12' }, ...request, now: NOW });
  return { ctx: registered.ctx, row: spawnedRow(registered.effects, address) };
}

/** V-1 registered and loading into A01: the allocation actor won A01 for it. Its actor's row. */
function loadingInA01(): Pickup {
  const { row } = register(registry.init(undefined, 'registry'), 'V-1', '+4915228817386', 'pickup/P1');
  return drive(row, [
    { type: 'pickup.load', reference: 'V-1', by: 'anna', ...request },
    { type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A01', by: 'anna', ...request },
  ]).row;
}

/** A registry whose table holds `rows`, as an earlier version registered them (not actors of their own). */
function legacyRegistry(rows: Pickup[], patch: Partial<RegistryCtx> = {}): RegistryCtx {
  const ctx = registry.init(undefined, 'registry');
  for (const row of rows) {
    ctx.pickups[row.id] = row;
    ctx.byReference[row.reference] = row.id;
  }
  return { ...ctx, seq: rows.length, ...patch };
}

// Two answers for one pickup's load: a load asked before a restart is answered after the restart
// loaded the pickup over (its `allocate` was still in the journal, its pickup back to REGISTERED
// and loaded again); the store's claims are per owner, so both can name the same compartment.
test('pickup: a second claim for it in the compartment it is in already is refused without freeing that compartment', () => {
  const loading = loadingInA01();
  assert.is(loading.compartmentId, 'A01');
  const again = pickup.step(loading, { type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A01', by: 'anna', ...request, now: NOW + 1 });
  assert.equal(sends(again.effects), [['replies', 'reply']], 'the late answer is refused, A01 stays given');
  assert.is(replyIn(again.effects).ok, false);
  // A claim on another compartment than the one it is in is given back.
  const other = pickup.step(loading, { type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A02', by: 'anna', ...request, now: NOW + 1 });
  assert.equal(sends(other.effects), [['replies', 'reply'], ['allocation', 'free A02']]);
});

test("pickup: its operations have ids of its own, counted on its row; a row saved before counts from one", () => {
  const loading = loadingInA01();
  assert.equal([loading.opId, loading.ops], ['op-P1-1', 1]);
  // The registry counts pickups only: the second one registered is P2, whose first operation is its own first.
  const first = register(registry.init(undefined, 'registry'), 'V-1', '+4915228817386', 'pickup/P1');
  const second = register(first.ctx, 'V-2', '+4915228817387', 'pickup/P2');
  assert.is(second.ctx.seq, 2);
  const { row: p2 } = drive(second.row, [
    { type: 'pickup.load', reference: 'V-2', by: 'anna', ...request },
    { type: 'compartment.claimed', pickupId: 'P2', compartmentId: 'A02', by: 'anna', ...request },
  ]);
  assert.is(p2.opId, 'op-P2-1', 'the second pickup is P2: the registry counts pickups only');
  // A row saved before (no count; its load's unlock had an id of the registry's count, op-<n>) counts
  // from one: as an actor of its own (the row split from an earlier version's table), and as a row
  // still in the registry's table.
  const { row: p3 } = register(second.ctx, 'V-3', '+4915228817388', 'pickup/P3');
  const old: Pickup = { ...p3, status: 'READY', opId: null, compartmentId: 'A03' };
  delete old.ops;
  assert.is(old.ops, undefined);
  const retrieving = pickup.step(old, { type: 'pickup.retrieve', reference: 'V-3', by: 'anna', ...request, now: NOW + 1 }).ctx;
  assert.equal([retrieving.opId, retrieving.ops], ['op-P3-1', 1]);
  const inTable = registry.step(legacyRegistry([old]), { type: 'pickup.retrieve', reference: 'V-3', by: 'anna', ...request, now: NOW + 1 }).ctx;
  assert.equal([inTable.pickups.P3!.opId, inTable.pickups.P3!.ops], ['op-P3-1', 1]);
});

const legacySlot = (patch: Partial<Slot>): Slot => ({ size: 'S', accessible: false, available: true, pickupId: null, claimedBy: null, ...patch });

test('registry: restored after the hand-over (its emptied slot table comes back empty), it frees through the allocation actor', () => {
  // V-1 of its table (an earlier version's row), loading into A01.
  const loading = legacyRegistry([loadingInA01()], { compartments: {} });
  const aborted = registry.step(loading, { type: 'compartment.notOpened', compartmentId: 'A01', opId: loading.pickups.P1!.opId!, purpose: 'load', pickupId: 'P1', now: NOW + 1 });
  assert.is(aborted.ctx.pickups.P1!.status, 'REGISTERED');
  assert.equal(sends(aborted.effects), [['allocation', 'free A01']]);
  const reported = registry.step(loading, { type: 'compartment.report', compartmentId: 'A02', pickupId: 'P9', state: 'occupied', now: NOW + 1 });
  assert.equal(sends(reported.effects), [['allocation', 'reserve']], 'kept from new loads (the pickups check it with the compartment)');
});

test('registry, upgraded: a compartment freed before the slots are handed over is handed over free, and its claim goes back', () => {
  // As the earlier version saved it: V-1 in its own table, loading into A01, and its own slot table, A01 given to V-1.
  const row = loadingInA01();
  const legacy = legacyRegistry([row], { compartments: { A01: legacySlot({ pickupId: 'P1', claimedBy: 'V-1' }), A02: legacySlot({}) } });
  // Its journal still held the compartment's word that the door was never opened: the load did not happen.
  const aborted = driveRegistry(legacy, [{ type: 'compartment.notOpened', compartmentId: 'A01', opId: row.opId!, purpose: 'load', pickupId: 'P1' }]);
  assert.is(aborted.ctx.pickups.P1!.status, 'REGISTERED');
  const { pickupId, claimedBy } = handedOver(aborted.ctx).A01!;
  assert.equal({ pickupId, claimedBy }, { pickupId: null, claimedBy: 'V-1' }, 'A01 handed over free, its claim still to be given back');
  assert.equal(aborted.effects.filter((e) => e.type === 'io'), [{ type: 'io', op: { kind: 'releaseCompartment', compartmentId: 'A01', owner: 'V-1' } }]);
});

test('registry, upgraded: what compartments report before the slots are handed over is in what is handed over', () => {
  const legacy: RegistryCtx = { ...registry.init(undefined, 'registry'), compartments: { A01: legacySlot({ available: false }), A02: legacySlot({}) } };
  const reported = driveRegistry(legacy, [
    // still in its journal: staff had cleared A01's fault
    { type: 'compartment.availability', compartmentId: 'A01', available: true },
    // A02 says it holds a pickup the registry does not have in it (at every start, before the allocation actor is spawned)
    { type: 'compartment.report', compartmentId: 'A02', pickupId: 'P9', state: 'occupied' },
  ]);
  const slots = handedOver(reported.ctx);
  assert.equal([slots.A01?.available, slots.A02?.pickupId], [true, 'P9']);
});

test('pickup: a compartment won for a load asked before a restart is not taken for the load asked again after it', () => {
  const first = { requestId: 'r-before', replyTo: 'replies' } as const;
  const again = { requestId: 'r-after', replyTo: 'replies' } as const;
  const { row: registered } = register(registry.init(undefined, 'registry'), 'V-2', '+4915228817386', 'pickup/P1');
  const restarted = drive(registered, [
    { type: 'pickup.load', reference: 'V-2', by: 'anna', ...first },
    { type: 'recovered' }, // the process stopped before the compartment was chosen: loading starts over
  ]);
  assert.is(restarted.row.status, 'REGISTERED');
  assert.equal(sends(restarted.effects), [['allocation', 'abandon']], 'whatever the allocation actor may have won for it goes back');
  const { row } = drive(restarted.row, [{ type: 'pickup.load', reference: 'V-2', by: 'anna', ...again }]);
  // The allocation actor answers the load stored before the restart first.
  const late = drive(row, [{ type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A01', by: 'anna', ...first }]);
  assert.is(late.row.compartmentId, null, 'not loaded into the old request\'s compartment');
  assert.equal(sends(late.effects), [['replies', 'reply'], ['allocation', 'free A01']]);
  assert.equal([replyIn(late.effects).requestId, replyIn(late.effects).ok], ['r-before', false]);
  const answered = drive(late.row, [{ type: 'compartment.claimed', pickupId: 'P1', compartmentId: 'A02', by: 'anna', ...again }]);
  assert.is(answered.row.compartmentId, 'A02', 'the new request gets its compartment');
  assert.equal([replyIn(answered.effects).requestId, replyIn(answered.effects).ok], ['r-after', true]);
});

/** V-1 READY in A01: loaded, its door shut on the document. */
function readyInA01(): Pickup {
  const loading = loadingInA01();
  const opId = loading.opId!;
  return drive(loading, [
    { type: 'compartment.opened', compartmentId: 'A01', opId, purpose: 'load', pickupId: 'P1' },
    { type: 'compartment.closed', compartmentId: 'A01', opId, purpose: 'load', pickupId: 'P1' },
  ]).row;
}

// A compartment's door closes after an opening for a collection or retrieval: the compartment is
// free again once the opening was seen (the pickup ended, its document out). Was it not seen, the
// pickup's row still puts the document in there: staff must look, and nobody gets the compartment.
test('pickup: a door closed after an opening the pickup never saw leaves the compartment given and calls staff; once seen, it is freed', () => {
  const ready = readyInA01();
  assert.is(ready.status, 'READY');
  const unseen = pickup.step(ready, { type: 'compartment.closed', compartmentId: 'A01', opId: 'op-9', purpose: 'collect', pickupId: 'P1', now: NOW + 2 });
  assert.equal(sends(unseen.effects), [['alarms', 'alarm.raise']], 'no free: the document may still be in A01');
  const alarm = unseen.effects.find((e) => e.type === 'send' && e.to === 'alarms') as unknown as { message: { code: string; key: string; severity: string } };
  assert.equal([alarm.message.code, alarm.message.key, alarm.message.severity], ['OCCUPANCY_MISMATCH', 'occupancy:A01', 'critical']);

  const retrieving = pickup.step(ready, { type: 'pickup.retrieve', reference: 'V-1', by: 'anna', ...request, now: NOW + 2 }).ctx;
  const opId = retrieving.opId!;
  const seen = drive(retrieving, [
    { type: 'compartment.opened', compartmentId: 'A01', opId, purpose: 'retrieve', pickupId: 'P1' },
    { type: 'compartment.closed', compartmentId: 'A01', opId, purpose: 'retrieve', pickupId: 'P1' },
  ]);
  assert.is(seen.row.status, 'RETURNED');
  assert.equal(sends(seen.effects), [['allocation', 'free A01']]);
  const free = seen.effects.find((e) => e.type === 'send' && e.to === 'allocation') as unknown as { message: { owner: string | null } };
  assert.is(free.message.owner, 'V-1', 'the claim in the shared store goes back with it');
});

// The opening of an unlock can reach the pickup after its closing: refused while the pickup's
// actor had failed for good, the compartment tells it again once the pickup is revived, and the
// closing, sent meanwhile, may be there first. The closing says the door opened for that unlock:
// the pickup ends as its opening would have ended it, and nobody is called to a compartment that
// is simply empty.
test('pickup: a closing for its own unlock that comes before its opening ends it and frees the compartment; the late opening changes nothing', () => {
  const retrieving = pickup.step(readyInA01(), { type: 'pickup.retrieve', reference: 'V-1', by: 'anna', ...request, now: NOW + 2 }).ctx;
  const opId = retrieving.opId!;
  const closed = pickup.step(retrieving, { type: 'compartment.closed', compartmentId: 'A01', opId, purpose: 'retrieve', pickupId: 'P1', now: NOW + 3 });
  assert.is(closed.ctx.status, 'RETURNED');
  assert.is(closed.ctx.compartmentId, null);
  assert.equal(sends(closed.effects), [['alarms', 'alarm.clear'], ['allocation', 'free A01']], 'no OCCUPANCY_MISMATCH: A01 is free');
  assert.ok(closed.effects.some((e) => e.type === 'audit' && e.entry.action === 'pickup.returned'));

  const late = pickup.step(closed.ctx, { type: 'compartment.opened', compartmentId: 'A01', opId, purpose: 'retrieve', pickupId: 'P1', now: NOW + 4 });
  assert.is(late.ctx, closed.ctx, 'the opening finds no unlock to match');
  assert.equal(late.effects, []);
});

test("pickup: a citizen's collection whose closing comes before its opening is collected: the session hears the door opened, the compartment is freed", () => {
  const ready = readyInA01();
  // The citizen's PIN and birth date opened the door (the unlock sent for session s1).
  const releasing: Pickup = { ...ready, status: 'RELEASING', opId: 'op-7', claim: { sessionId: 's1', until: NOW + 60_000, factor: 'birthDate' }, unlockSent: true };
  const closed = pickup.step(releasing, { type: 'compartment.closed', compartmentId: 'A01', opId: 'op-7', purpose: 'collect', pickupId: 'P1', now: NOW + 3 });
  assert.is(closed.ctx.status, 'COLLECTED');
  assert.equal(sends(closed.effects), [['session/s1', 'pickup.doorOpened'], ['allocation', 'free A01']]);
  assert.ok(closed.effects.some((e) => e.type === 'audit' && e.entry.action === 'pickup.collected'));
  assert.not.ok(closed.effects.some((e) => e.type === 'send' && e.to === 'alarms'), 'nobody is called to an empty compartment');
});

test.run();
