import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Pickup } from '../../actors/pickup.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { registryCrypto } from '../../src/crypto.js';
import { lastPin, MONDAY_10AM, PHONE, readyPickup, testBox, withTempStorage } from '../helpers.js';
import { committedPickups } from '../support/committed.js';
import { credentialDrift } from '../support/credentials.js';
import { toLegacyStore } from '../support/legacy-store.js';
import { projectionDrift } from '../support/projection.js';
import { TEST_PIN_KEY, registryUnderTest } from '../security/registry-rig.js';

// Review of the auth actor's hand-over (auth.started): what happens to a legacy row whose PIN is
// made again between the first start of the new version and the registry's `auth.started`.

test('upgrade of a store whose READY pickup never got its PIN (the old process died first): the PIN recovery makes reaches the auth actor and the registry alike', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-upgrade-race-', async (storage) => {
    let t = await testBox({ storage }, { clock });
    await readyPickup(t, 'V-RACE-1');
    await t.box.close();
    // The old version died after the door closed (READY committed) and before its PIN was made.
    await toLegacyStore(storage, () => null);

    t = await testBox({ storage }, { clock });
    await t.box.idle();
    const p = committedPickups(t.box)[t.box.pickup('V-RACE-1')!.id]!;
    assert.is(p.pinSerial, 2, 'recovery made a new PIN');
    assert.equal(credentialDrift(t.box), [], 'the auth actor and the registry agree on the live PIN');
    assert.is(p.pinIssued, true, 'the registry knows its PIN was made');
    // The citizen types the PIN of the SMS recovery sent.
    const pin = lastPin(t, PHONE);
    const { sessionId } = await t.box.startSession();
    await t.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
    const answer = await t.box.sessionInput(sessionId, { type: 'pin', pin });
    assert.is(answer.error, null, `the PIN from the SMS is accepted (got ${answer.error})`);
    await t.box.close();
  });
});

test("upgrade: the rows the hand-over rewrites (pinHash gone, pinIssued set) reach the box's readers too", async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-upgrade-proj-', async (storage) => {
    let t = await testBox({ storage }, { clock });
    await readyPickup(t, 'V-PROJ-1');
    await t.box.close();
    await toLegacyStore(storage, (id, auth) => auth.credentials[id]?.pinHash ?? null);
    t = await testBox({ storage }, { clock });
    await t.box.idle();
    assert.is(committedPickups(t.box)[t.box.pickup('V-PROJ-1')!.id]!.pinIssued, true);
    assert.equal(projectionDrift(t.box), []);
    await t.box.close();
  });
});

test('transition: a legacy row whose new PIN was made before auth.started keeps pinIssued and no second hand-over drops it', () => {
  const crypto = registryCrypto(TEST_PIN_KEY, () => '482913');
  const registry = registryUnderTest(crypto);
  const base = registry.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'registry');
  const row = {
    id: 'P1', reference: 'V-1', documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'READY',
    phone: PHONE, birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinHash: null, pinQueued: false,
    compartmentId: 'A01', failedAttempts: 0, claim: null, opId: null, createdAt: 0, updatedAt: 0, readyAt: 0,
    expiresAt: 10 * 86_400_000, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
  } as unknown as Pickup;
  const legacy: RegistryCtx = { ...base, pickups: { P1: row }, byReference: { 'V-1': 'P1' }, numberThrottles: {}, kioskThrottles: {}, byNumber: {} };
  const recovered = registry.step(legacy, { type: 'recovered', now: 1_000 });
  assert.is(recovered.ctx.pickups.P1!.pinSerial, 2);
  const generated = registry.step(recovered.ctx, { type: 'pin.generated', pickupId: 'P1', serial: 2, pin: '482913', pinHash: crypto.pinHash('482913', 'P1', 2), now: 1_001 });
  assert.ok(generated.effects.some((e) => e.type === 'send' && e.message.type === 'credential.set'), 'the hash went to the auth actor');
  const handed = registry.step(generated.ctx, { type: 'auth.started', now: 1_002 });
  assert.is(handed.ctx.pickups.P1!.pinIssued, true, 'the PIN the auth actor holds is still live for the registry');
});

test('an auth actor whose state was lost while a pickup was RELEASING: back to READY, the pickup does not keep a PIN nobody can check', () => {
  const crypto = registryCrypto(TEST_PIN_KEY, () => '482913');
  const registry = registryUnderTest(crypto);
  const base = registry.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'registry');
  const row: Pickup = {
    id: 'P1', reference: 'V-1', documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'RELEASING',
    phone: PHONE, birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true, pinQueued: true,
    compartmentId: 'A01', failedAttempts: 0, claim: { sessionId: 's1', until: 300_000, factor: 'birthDate' }, opId: 'op-1', createdAt: 0, updatedAt: 0, readyAt: 0,
    expiresAt: 10 * 86_400_000, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
  };
  const ctx: RegistryCtx = { ...base, pickups: { P1: row }, byReference: { 'V-1': 'P1' } };
  // A new, empty auth actor: the hash of PIN 1 is gone.
  const reset = registry.step(ctx, { type: 'auth.started', now: 1_000 });
  // The release falls through (the store could not be asked): the pickup is READY again.
  const back = registry.step(reset.ctx, { type: 'pin.claimed', pickupId: 'P1', opId: 'op-1', ok: false, failed: 'STORAGE_UNAVAILABLE', now: 1_001 });
  const p = back.ctx.pickups.P1!;
  assert.is(p.status, 'READY');
  const renewed = [...reset.effects, ...back.effects].some((e) => e.type === 'io' && e.op.kind === 'issuePin');
  assert.ok(renewed || p.pinIssued === false, 'READY with PIN 1 "issued", whose hash no auth actor holds: the SMS PIN can never open it, and nothing renews it');
});

test.run();
