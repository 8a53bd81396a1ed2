import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuthCtx } from '../../actors/auth.js';
import { PICKUP_PREFIX, REGISTRY } from '../../actors/messages.js';
import { pickupActor, type PickupEvent } from '../../actors/pickup-actor.js';
import type { Pickup } from '../../actors/pickup.js';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, TEST_POLICY, authUnderTest } from './registry-rig.js';

/**
 * Attack: guess the PIN of a pickup while its owner's release is under way (RELEASING, the door
 * unlocking at another panel). Before the auth actor, a RELEASING pickup was no PIN candidate: a
 * guess learnt nothing. Its credential stays with the auth actor (the release may fall through and
 * the PIN work again), so it must be held aside: no guess is compared with it, a right one is
 * answered like a wrong one, and no match or miss reaches the pickup (its actor, `pickup/P1`) for it.
 */

const crypto = registryCrypto(TEST_PIN_KEY);
const auth = authUnderTest(crypto);
/** The pickup actor under the test policy, as the registry rig builds the registry: claims that always succeed, an archive that keeps nothing. */
const pickup = pickupActor(TEST_POLICY, crypto, { claimOnce: async () => true, release: async () => {} }, { archive: async () => {} });
const PHONE = '+4915228817386';
const PIN = '482913';
const P1 = 'pickup/P1';

const releasing: Pickup = {
  id: 'P1', reference: 'V-REL-1', documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'RELEASING',
  phone: PHONE, birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true, pinQueued: true,
  compartmentId: 'A01', failedAttempts: 0, claim: { sessionId: 'owner', until: 300_000, factor: 'birthDate' }, opId: 'op-1',
  createdAt: 0, updatedAt: 0, readyAt: 0, expiresAt: TEST_POLICY.windowMs, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
};
/** P1's actor, spawned with its row: its context is the row. */
const pickupCtx: Pickup = pickup.init({ row: releasing }, P1);
const live: AuthCtx = { ...auth.init(undefined, 'auth'), credentials: { P1: { pickupId: 'P1', numberKey: crypto.numberKey(PHONE), serial: 1, pinHash: crypto.pinHash(PIN, 'P1', 1) } } };

/** Whether an effect is a message to a pickup (its actor, or the registry for a pickup of an earlier version). */
const toAnyPickup = (e: ReturnType<typeof auth.step>['effects'][number]) => e.type === 'send' && (e.to.startsWith(PICKUP_PREFIX) || e.to === REGISTRY);

/** The pickup's messages to the auth actor when P1 goes from `from` to `to`. */
function toAuth(from: Pickup['status'], to: Pickup['status']) {
  const ctx: Pickup = { ...pickupCtx, status: from, ...(from === 'READY' ? { opId: null } : {}) };
  // A match of P1 by the owner's session (READY) starts nothing here; drive the status change directly.
  const change: PickupEvent =
    to === 'RELEASING'
      ? { type: 'pickup.release', sessionId: 'owner', pickupId: 'P1' }
      : { type: 'pin.claimed', pickupId: 'P1', opId: 'op-1', ok: false, failed: 'STORAGE_UNAVAILABLE' };
  const step = pickup.step(ctx, { ...change, now: 1_000 });
  assert.is(step.ctx.status, to);
  return step.effects.flatMap((e) => (e.type === 'send' && e.to === 'auth' ? [e.message] : []));
}

test("the pickup holds its PIN aside at the auth actor while it is released, and gives it back when the release falls through", () => {
  assert.equal(toAuth('READY', 'RELEASING'), [{ type: 'credential.hold', pickupId: 'P1' }]);
  assert.equal(toAuth('RELEASING', 'READY'), [{ type: 'credential.resume', pickupId: 'P1' }]);
});

/** The auth actor's state once the pickup held its PIN aside. */
const authCtx: AuthCtx = auth.step(live, { type: 'credential.hold', pickupId: 'P1', now: 1_000 }).ctx;

test('a held PIN is resumed whole', () => {
  const resumed = auth.step(authCtx, { type: 'credential.resume', pickupId: 'P1', now: 1_000 }).ctx;
  assert.equal(resumed.credentials, live.credentials);
});

/** The message an auth transition sent the pickup P1 (its actor). */
function toPickup(effects: ReturnType<typeof auth.step>['effects']): PickupEvent {
  const sent = effects.find((e) => e.type === 'send' && e.to === P1);
  if (!sent || sent.type !== 'send') throw new Error('nothing sent to pickup/P1');
  return sent.message as PickupEvent;
}

/** What the attacker's session hears for `pin` typed with the owner's number at kiosk 2. */
function answerTo(pin: string): unknown {
  const checked = auth.step(authCtx, { type: 'auth.pin', sessionId: 'attacker', kioskId: '2', phone: PHONE, pin, now: 1_000 });
  const direct = checked.effects.find((e) => e.type === 'send' && e.to === 'session/attacker');
  if (direct && direct.type === 'send') return direct.message;
  const matched = toPickup(checked.effects);
  assert.is(matched.type, 'pin.matched');
  const decided = pickup.step(pickupCtx, { ...matched, now: 1_000 });
  const reply = decided.effects.find((e) => e.type === 'send' && e.to === 'session/attacker');
  return reply && reply.type === 'send' ? reply.message : null;
}

test('while a pickup is RELEASING, its right PIN typed at another panel is answered like a wrong one (no oracle)', () => {
  assert.equal(answerTo(PIN), answerTo('000000'));
});

test('while a pickup is RELEASING, no guess is compared with its PIN: nothing reaches the pickup, the throttles count it', () => {
  for (const pin of [PIN, '000000']) {
    const checked = auth.step(authCtx, { type: 'auth.pin', sessionId: 'attacker', kioskId: '2', phone: PHONE, pin, now: 1_000 });
    assert.not.ok(checked.effects.some(toAnyPickup), `${pin}: nothing for the pickup`);
    assert.is(checked.ctx.kioskThrottles['2']!.failures, 1, `${pin}: counted on the panel's bucket`);
  }
});

test('while a pickup is RELEASING, "I have not received an SMS" asks the pickup for no new PIN', () => {
  const asked = auth.step(authCtx, { type: 'pin.resend', sessionId: 'attacker', kioskId: '2', phone: PHONE, now: 1_000 });
  assert.equal(asked.effects.filter((e) => e.type === 'send').map((e) => (e.type === 'send' ? e.to : '')), ['session/attacker'], 'the panel is answered, nothing goes to the pickup');
  const resumed = auth.step(auth.step(authCtx, { type: 'credential.resume', pickupId: 'P1', now: 1_000 }).ctx, { type: 'pin.resend', sessionId: 'owner', kioskId: '2', phone: PHONE, now: 1_000 });
  assert.ok(resumed.effects.some((e) => e.type === 'send' && e.to === P1 && e.message.type === 'pin.resendFor'), 'once READY again, it would get one');
});

test("the room door's outside panel opens for a READY pickup's PIN only (README), not for one being released", () => {
  const decided = pickup.step(pickupCtx, { type: 'door.matched', kioskId: 'door', pickupId: 'P1', serial: 1, requestId: 'q1', replyTo: 'replies', now: 1_000 });
  assert.not.ok(decided.effects.some((e) => e.type === 'send' && e.to === 'door/room'), 'the room door is not opened');
  // (Against a READY row, the same match opens it: the refusal above is the release's doing.)
  const ready = pickup.step({ ...pickupCtx, status: 'READY', claim: null, opId: null }, { type: 'door.matched', kioskId: 'door', pickupId: 'P1', serial: 1, requestId: 'q1', replyTo: 'replies', now: 1_000 });
  assert.ok(ready.effects.some((e) => e.type === 'send' && e.to === 'door/room'), 'a READY pickup opens the room door');
});

test.run();
