import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registryActor, type RegistryCtx } from '../../actors/registry.js';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, TEST_POLICY } from '../security/registry-rig.js';

// A compartment's claim in the shared store that could not be given back (storage failed) is a
// rejected I/O with STORAGE_UNAVAILABLE, which the supervisor parks and runs again once storage
// is back; only the confirmation by the same owner frees the slot's record of the claim.

const down = Object.assign(new Error('disk full'), { code: 'STORAGE_UNAVAILABLE' });
let releaseFails = true;
const released: string[] = [];
const actor = registryActor(
  TEST_POLICY,
  registryCrypto(TEST_PIN_KEY),
  {
    claimOnce: async () => true,
    release: async (key, owner) => {
      if (releaseFails) throw down;
      released.push(`${key} ${owner}`);
    },
  },
  { archive: async () => {} },
);
const op = { kind: 'releaseCompartment' as const, compartmentId: 'A01', owner: 'W-1' };
const freed: RegistryCtx = (() => {
  const ctx = actor.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'registry');
  return { ...ctx, compartments: { A01: { ...ctx.compartments.A01!, claimedBy: 'W-1' } } };
})();

test('registry: a release the store refused rejects with STORAGE_UNAVAILABLE for the supervisor to park, and confirms once it goes', async () => {
  releaseFails = true;
  let refused: unknown = null;
  await actor.io!(op, freed, 'registry').catch((error: unknown) => (refused = error));
  assert.is((refused as { code?: string } | null)?.code, 'STORAGE_UNAVAILABLE');
  assert.equal(released, [], 'nothing was given back');
  releaseFails = false;
  assert.equal(await actor.io!(op, freed, 'registry'), { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1' });
  assert.equal(released, ['box:compartment:A01 W-1']);
});

test('registry: a retry timer committed by an earlier version still gives the claim back', () => {
  assert.equal(actor.step(freed, { type: 'claim.release', op, now: 6_000 }).effects, [{ type: 'io', op }]);
});

test('registry: the store\'s confirmation clears the claim only for its owner and only while the slot is free', () => {
  assert.is(actor.step(freed, { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1', now: 1 }).ctx.compartments.A01!.claimedBy, null);
  assert.is(actor.step(freed, { type: 'compartment.released', compartmentId: 'A01', owner: 'W-9', now: 1 }).ctx.compartments.A01!.claimedBy, 'W-1');
  const taken: RegistryCtx = { ...freed, compartments: { A01: { ...freed.compartments.A01!, pickupId: 'P2' } } };
  assert.is(actor.step(taken, { type: 'compartment.released', compartmentId: 'A01', owner: 'W-1', now: 1 }).ctx.compartments.A01!.claimedBy, 'W-1');
});

test('registry: a PIN claim the store could not be asked about comes back as failed, not as a reused PIN', async () => {
  const failing = registryActor(TEST_POLICY, registryCrypto(TEST_PIN_KEY), { claimOnce: async () => Promise.reject(down), release: async () => {} }, { archive: async () => {} });
  assert.equal(await failing.io!({ kind: 'claimPin', pickupId: 'P1', opId: 'op-1', key: 'pin:W-1:1', owner: 's1' }, freed, 'registry'), {
    type: 'pin.claimed',
    pickupId: 'P1',
    opId: 'op-1',
    ok: false,
    failed: 'STORAGE_UNAVAILABLE',
  });
});

test('registry: any other failure of the store is a crash of the I/O, not an answer', async () => {
  const broken = registryActor(TEST_POLICY, registryCrypto(TEST_PIN_KEY), { claimOnce: async () => true, release: async () => Promise.reject(new Error('bug')) }, { archive: async () => {} });
  const outcome = await broken.io!(op, freed, 'registry').then(() => 'answered', (error: Error) => error.message);
  assert.is(outcome, 'bug');
});

test.run();
