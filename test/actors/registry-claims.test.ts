import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocationActor, type AllocationCtx, type AllocationEvent } from '../../actors/allocation.js';
import { pickupActor } from '../../actors/pickup-actor.js';
import type { Pickup } from '../../actors/pickup.js';
import { registryActor, type RegistryCtx } from '../../actors/registry.js';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, TEST_POLICY } from '../security/registry-rig.js';

// A compartment's claim in the shared store that could not be given back (storage failed) is a
// rejected I/O with STORAGE_UNAVAILABLE, which the supervisor parks and runs again once storage
// is back; only the confirmation by the same owner frees the slot's record of the claim. The
// claims on compartments are the allocation actor's; the one-time claim of a PIN is the pickup's
// (its own actor's, or the registry's for a pickup an earlier version registered). What the
// allocation actor won or not goes to the pickup's own actor, `pickup/<id>`.

const down = Object.assign(new Error('disk full'), { code: 'STORAGE_UNAVAILABLE' });
let releaseFails = true;
const released: string[] = [];
const claims = {
  claimOnce: async () => true,
  release: async (key: string, owner: string) => {
    if (releaseFails) throw down;
    released.push(`${key} ${owner}`);
  },
};
const allocation = allocationActor(claims);
const op = { kind: 'release' as const, compartmentId: 'A01', owner: 'W-1' };
const freed: AllocationCtx = (() => {
  const ctx = allocation.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'allocation');
  return { slots: { A01: { ...ctx.slots.A01!, claimedBy: 'W-1' } } };
})();
const registry = registryActor(TEST_POLICY, registryCrypto(TEST_PIN_KEY), claims, { archive: async () => {} });
const noPickups: RegistryCtx = registry.init(undefined, 'registry');

test('allocation: a release the store refused rejects with STORAGE_UNAVAILABLE for the supervisor to park, and confirms once it goes', async () => {
  releaseFails = true;
  let refused: unknown = null;
  await allocation.io!(op, freed, 'allocation').catch((error: unknown) => (refused = error));
  assert.is((refused as { code?: string } | null)?.code, 'STORAGE_UNAVAILABLE');
  assert.equal(released, [], 'nothing was given back');
  releaseFails = false;
  assert.equal(await allocation.io!(op, freed, 'allocation'), { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1' });
  assert.equal(released, ['box:compartment:A01 W-1']);
});

test('registry: a release it started before the allocation actor existed still runs, and its confirmation goes to the allocation actor', async () => {
  releaseFails = false;
  released.length = 0;
  const legacy = { kind: 'releaseCompartment' as const, compartmentId: 'A01', owner: 'W-1' };
  assert.equal(await registry.io!(legacy, noPickups, 'registry'), { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1' });
  assert.equal(released, ['box:compartment:A01 W-1']);
  assert.equal(registry.step(noPickups, { type: 'claim.release', op: legacy, now: 6_000 }).effects, [{ type: 'io', op: legacy }], 'a retry timer of an earlier version still gives the claim back');
  const passedOn = registry.step(noPickups, { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1', now: 1 });
  assert.equal(passedOn.effects, [{ type: 'send', to: 'allocation', message: { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1' } }]);
});

test('allocation: the store\'s confirmation clears the claim only for its owner and only while the slot is free', () => {
  assert.is(allocation.step(freed, { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1', now: 1 }).ctx.slots.A01!.claimedBy, null);
  assert.is(allocation.step(freed, { type: 'compartment.released', compartmentId: 'A01', owner: 'W-9', now: 1 }).ctx.slots.A01!.claimedBy, 'W-1');
  const taken: AllocationCtx = { slots: { A01: { ...freed.slots.A01!, pickupId: 'P2' } } };
  assert.is(allocation.step(taken, { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1', now: 1 }).ctx.slots.A01!.claimedBy, 'W-1');
});

test('allocation: a claim the store could not be asked about refuses the load with STORAGE_UNAVAILABLE; nothing is given', async () => {
  const failing = allocationActor({ claimOnce: async () => Promise.reject(down), release: async () => {} });
  const request = { requestId: 'r1', replyTo: 'replies' as const, by: 'staff-1' };
  const won = await failing.io!({ kind: 'claim', pickupId: 'P1', owner: 'W-1', candidates: ['A01'], request }, freed, 'allocation');
  assert.equal(won, { type: 'allocation.won', pickupId: 'P1', owner: 'W-1', compartmentId: null, failed: 'STORAGE_UNAVAILABLE', request });
  const after = failing.step(freed, { ...(won as AllocationEvent & { type: 'allocation.won' }), now: 1 });
  assert.is(after.ctx.slots.A01!.pickupId, null);
  assert.equal(after.effects, [{ type: 'send', to: 'pickup/P1', message: { type: 'compartment.claimed', pickupId: 'P1', compartmentId: null, failed: 'STORAGE_UNAVAILABLE', ...request } }]);
});

test('pickup: a PIN claim the store could not be asked about comes back as failed, not as a reused PIN (its own actor, and the registry for its table)', async () => {
  const failingClaims = { claimOnce: async () => Promise.reject(down), release: async () => {} };
  const op = { kind: 'claimPin' as const, pickupId: 'P1', opId: 'op-P1-1', key: 'pin:W-1:1', owner: 's1' };
  const failed = { type: 'pin.claimed', pickupId: 'P1', opId: 'op-P1-1', ok: false, failed: 'STORAGE_UNAVAILABLE' };
  const ownActor = pickupActor(TEST_POLICY, registryCrypto(TEST_PIN_KEY), failingClaims, { archive: async () => {} });
  assert.equal(await ownActor.io!(op, {} as Pickup, 'pickup/P1'), failed);
  const failing = registryActor(TEST_POLICY, registryCrypto(TEST_PIN_KEY), failingClaims, { archive: async () => {} });
  assert.equal(await failing.io!(op, noPickups, 'registry'), failed);
});

test('allocation: any other failure of the store is a crash of the I/O, not an answer', async () => {
  const broken = allocationActor({ claimOnce: async () => true, release: async () => Promise.reject(new Error('bug')) });
  const outcome = await broken.io!(op, freed, 'allocation').then(() => 'answered', (error: Error) => error.message);
  assert.is(outcome, 'bug');
});

test('allocation: a compartment reserved or out of service while it was being won is given back, and the pickup tries the others free now', () => {
  const three = allocation.init(
    { compartments: [{ id: 'A01', size: 'S', accessible: false }, { id: 'A02', size: 'S', accessible: false }, { id: 'A03', size: 'S', accessible: false }] },
    'allocation',
  );
  const request = { requestId: 'r1', replyTo: 'replies' as const, by: 'staff-1' };
  const asked = allocation.step(three, { type: 'allocate', pickupId: 'P1', owner: 'W-1', documents: 1, accessible: false, request, now: 1 });
  const claim = asked.effects.find((e) => e.type === 'io')!;
  assert.equal((claim as { op: { candidates: string[] } }).op.candidates, ['A01', 'A02', 'A03']);
  // While the store is asked, A01 reports it holds P9 (after a restart), and A02 goes out of service.
  let ctx = allocation.step(asked.ctx, { type: 'reserve', compartmentId: 'A01', pickupId: 'P9', now: 2 }).ctx;
  ctx = allocation.step(ctx, { type: 'compartment.availability', compartmentId: 'A02', available: false, now: 2 }).ctx;
  const need = { documents: 1, accessible: false };
  const wonA01 = allocation.step(ctx, { type: 'allocation.won', pickupId: 'P1', owner: 'W-1', compartmentId: 'A01', request, need, now: 3 });
  assert.is(wonA01.ctx.slots.A01!.pickupId, 'P9', 'the reservation stays');
  assert.equal(wonA01.effects, [
    { type: 'io', op: { kind: 'release', compartmentId: 'A01', owner: 'W-1' } },
    { type: 'io', op: { kind: 'claim', pickupId: 'P1', owner: 'W-1', candidates: ['A03'], request, need } },
  ]);
  // The next try wins A02 in the store, out of service meanwhile: given back too; nothing else is free.
  const full = allocation.step(wonA01.ctx, { type: 'reserve', compartmentId: 'A03', pickupId: 'P8', now: 4 }).ctx;
  const wonA02 = allocation.step(full, { type: 'allocation.won', pickupId: 'P1', owner: 'W-1', compartmentId: 'A02', request, need, now: 5 });
  assert.is(wonA02.ctx.slots.A02!.pickupId, null);
  assert.is(wonA02.ctx.slots.A02!.claimedBy, 'W-1', 'its claim is kept as given back until the store confirms');
  assert.equal(wonA02.effects, [
    { type: 'io', op: { kind: 'release', compartmentId: 'A02', owner: 'W-1' } },
    { type: 'send', to: 'pickup/P1', message: { type: 'compartment.claimed', pickupId: 'P1', compartmentId: null, ...request } },
  ]);
  assert.equal(wonA02.ctx.claiming, {}, 'no longer claiming');
  // Won while still free and in service: the pickup's, as before.
  const plain = allocation.step(asked.ctx, { type: 'allocation.won', pickupId: 'P1', owner: 'W-1', compartmentId: 'A01', request, need, now: 3 });
  assert.is(plain.ctx.slots.A01!.pickupId, 'P1');
});

test('allocation: a claim won on a compartment reserved meanwhile is given back again after a restart until the store confirms it', () => {
  const two = allocation.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }, { id: 'A02', size: 'S', accessible: false }] }, 'allocation');
  const request = { requestId: 'r1', replyTo: 'replies' as const, by: 'staff-1' };
  const need = { documents: 1, accessible: false };
  const asked = allocation.step(two, { type: 'allocate', pickupId: 'P1', owner: 'W-1', documents: 1, accessible: false, request, now: 1 });
  const reserved = allocation.step(asked.ctx, { type: 'reserve', compartmentId: 'A01', pickupId: 'P9', now: 2 }).ctx;
  const won = allocation.step(reserved, { type: 'allocation.won', pickupId: 'P1', owner: 'W-1', compartmentId: 'A01', request, need, now: 3 });
  assert.equal(won.effects[0], { type: 'io', op: { kind: 'release', compartmentId: 'A01', owner: 'W-1' } });
  // The retry wins A02 and is committed; the process stops before the store confirmed A01's release.
  const settled = allocation.step(won.ctx, { type: 'allocation.won', pickupId: 'P1', owner: 'W-1', compartmentId: 'A02', request, need, now: 4 }).ctx;
  const releases = (ctx: AllocationCtx) =>
    allocation.step(ctx, { type: 'recovered', now: 5 }).effects.flatMap((e) => (e.type === 'io' && e.op.kind === 'release' ? [`${e.op.compartmentId} ${e.op.owner}`] : []));
  // Else the store keeps W-1's claim on A01 for good: once P9 is gone, no other pickup could ever win it.
  assert.equal(releases(settled), ['A01 W-1'], 'given back at the start');
  const confirmed = allocation.step(settled, { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1', now: 6 }).ctx;
  assert.equal(releases(confirmed), [], 'confirmed: nothing left to give back');
  assert.is(confirmed.slots.A01!.pickupId, 'P9', 'the reservation stays');
  assert.is(confirmed.slots.A02!.pickupId, 'P1');
});

test.run();
