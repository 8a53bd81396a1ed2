import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuthCtx } from '../../actors/auth.js';
import type { Pickup, RegistryCtx, RegistryEvent } from '../../actors/registry.js';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, TEST_POLICY, authUnderTest, registryUnderTest } from './registry-rig.js';

/**
 * Attack: guess the PIN of a pickup while its owner's release is under way (RELEASING, the door
 * unlocking at another panel). Before the auth actor, a RELEASING pickup was no PIN candidate: a
 * guess learnt nothing. Now its credential stays with the auth actor (a live PIN), a guess is
 * compared with it, the registry does not count a miss on it (not READY), and a hit is answered
 * `auth.busy` instead of `auth.rejected`: a PIN oracle outside the limit of 5.
 */

const crypto = registryCrypto(TEST_PIN_KEY);
const auth = authUnderTest(crypto);
const registry = registryUnderTest(crypto);
const PHONE = '+4915228817386';
const PIN = '482913';

const releasing: Pickup = {
  id: 'P1', reference: 'V-REL-1', documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'RELEASING',
  phone: PHONE, birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true, pinQueued: true,
  compartmentId: 'A01', failedAttempts: 0, claim: { sessionId: 'owner', until: 300_000, factor: 'birthDate' }, opId: 'op-1',
  createdAt: 0, updatedAt: 0, readyAt: 0, expiresAt: TEST_POLICY.windowMs, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
};
const authCtx: AuthCtx = { ...auth.init(undefined, 'auth'), credentials: { P1: { pickupId: 'P1', numberKey: crypto.numberKey(PHONE), serial: 1, pinHash: crypto.pinHash(PIN, 'P1', 1) } } };
const registryCtx: RegistryCtx = { ...registry.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'registry'), pickups: { P1: releasing }, byReference: { 'V-REL-1': 'P1' } };

/** The message an auth transition sent the registry. */
function toRegistry(effects: ReturnType<typeof auth.step>['effects']): RegistryEvent {
  const sent = effects.find((e) => e.type === 'send' && e.to === 'registry');
  if (!sent || sent.type !== 'send') throw new Error('nothing sent to the registry');
  return sent.message as RegistryEvent;
}

/** What the attacker's session hears for `pin` typed with the owner's number at kiosk 2. */
function answerTo(pin: string): unknown {
  const checked = auth.step(authCtx, { type: 'auth.pin', sessionId: 'attacker', kioskId: '2', phone: PHONE, pin, now: 1_000 });
  const direct = checked.effects.find((e) => e.type === 'send' && e.to === 'session/attacker');
  if (direct && direct.type === 'send') return direct.message;
  const matched = toRegistry(checked.effects);
  assert.is(matched.type, 'pin.matched');
  const decided = registry.step(registryCtx, { ...matched, now: 1_000 });
  const reply = decided.effects.find((e) => e.type === 'send' && e.to === 'session/attacker');
  return reply && reply.type === 'send' ? reply.message : null;
}

test('while a pickup is RELEASING, its right PIN typed at another panel is answered like a wrong one (no oracle)', () => {
  assert.equal(answerTo(PIN), answerTo('000000'));
});

test('while a pickup is RELEASING, a wrong PIN compared with its live hash counts toward its lock', () => {
  const checked = auth.step(authCtx, { type: 'auth.pin', sessionId: 'attacker', kioskId: '2', phone: PHONE, pin: '000000', now: 1_000 });
  const missed = toRegistry(checked.effects);
  assert.is(missed.type, 'pin.missed', 'the auth actor compared the guess with the live PIN');
  const counted = registry.step(registryCtx, { ...missed, now: 1_000 });
  assert.is(counted.ctx.pickups.P1!.failedAttempts, 1);
});

test("the room door's outside panel opens for a READY pickup's PIN only (README), not for one being released", () => {
  const decided = registry.step(registryCtx, { type: 'door.matched', kioskId: 'door', pickupId: 'P1', serial: 1, requestId: 'q1', replyTo: 'replies', now: 1_000 });
  assert.not.ok(decided.effects.some((e) => e.type === 'send' && e.to === 'door/room'), 'the room door is not opened');
});

test.run();
