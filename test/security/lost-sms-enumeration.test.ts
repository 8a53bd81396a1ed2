import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuthCtx } from '../../actors/auth.js';
import { pickupActor } from '../../actors/pickup-actor.js';
import type { Pickup } from '../../actors/pickup.js';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, TEST_POLICY, authUnderTest } from './registry-rig.js';

/**
 * "I have not received an SMS" must not tell who has a pickup: through the auth actor's pure
 * transition, a number with a READY pickup and one without get the session's answer as the first
 * effect, before any work on a pickup (so the answer never waits for a PIN to be made), with the
 * same audit shape and the same throttle counts. The new PIN is the pickup's work (its actor,
 * `pickup/<id>`), after.
 */

const crypto = registryCrypto(TEST_PIN_KEY);
const auth = authUnderTest(crypto);
/** The pickup actor, with claims that always succeed and an archive that keeps nothing. */
const pickup = pickupActor(TEST_POLICY, crypto, { claimOnce: async () => true, release: async () => {} }, { archive: async () => {} });

const KNOWN = '+4915228817386';
const UNKNOWN = '+4915228817399';
const NOW = Date.UTC(2026, 10, 23, 9, 0, 0);

/** The auth actor holding the live PIN of one READY pickup of KNOWN. */
const authWithPin = (): AuthCtx => ({
  ...auth.init(undefined, 'auth'),
  credentials: { P1: { pickupId: 'P1', numberKey: crypto.numberKey(KNOWN), serial: 1, pinHash: 'h'.repeat(64) } },
});

/** P1's actor: a READY pickup of KNOWN (its context is its row). */
function readyPickup(): Pickup {
  const p: Pickup = {
    id: 'P1', reference: 'V-2026-0001', documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'READY',
    phone: KNOWN, birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true, pinQueued: true,
    compartmentId: 'A01', failedAttempts: 0, claim: null, opId: null, createdAt: 0, updatedAt: 0, readyAt: 0,
    expiresAt: NOW + 86_400_000, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
  };
  return pickup.init({ row: p }, 'pickup/P1');
}

const ask = (ctx: AuthCtx, phone: string) => auth.step(ctx, { type: 'pin.resend', sessionId: '1-1', kioskId: '1', phone, now: NOW });

/** The effects as an observer of timing and the audit's shape sees them: the hashed number blanked. */
const shape = (effects: ReturnType<typeof ask>['effects']) =>
  effects.map((e) => (e.type === 'audit' ? { type: 'audit', action: e.entry.action, actor: e.entry.actor, detailKeys: Object.keys(e.entry.detail ?? {}) } : e));

test('known or unknown number: the answer comes first and reads the same, the audit has the same shape', () => {
  const known = ask(authWithPin(), KNOWN);
  const unknown = ask(authWithPin(), UNKNOWN);
  assert.equal(shape(known.effects).slice(0, 2), shape(unknown.effects));
  assert.equal(shape(unknown.effects), [
    { type: 'send', to: 'session/1-1', message: { type: 'pin.resendAnswered' } },
    { type: 'audit', action: 'pin.resendRequested', actor: '1', detailKeys: ['number'] },
  ]);
  // Only then, for the known number, each of the number's pickups is asked for a new PIN (its actor).
  assert.equal(known.effects.slice(2), [{ type: 'send', to: 'pickup/P1', message: { type: 'pin.resendFor', kioskId: '1', pickupId: 'P1' }, aside: true }]);
  // Both count once on their number and on the kiosk.
  assert.is(known.ctx.kioskThrottles['1']!.failures, unknown.ctx.kioskThrottles['1']!.failures);
  assert.is(Object.values(known.ctx.numberThrottles)[0]!.failures, Object.values(unknown.ctx.numberThrottles)[0]!.failures);
  // The audit names the number by its keyed hash, never in clear.
  assert.not.ok(JSON.stringify([known.effects, unknown.effects].flat().filter((e) => e.type === 'audit')).includes('15228817'));
});

test('the pickup renews its PIN: the old one dies at once (the auth actor forgets its hash), the new one is made', () => {
  const renewed = pickup.step(readyPickup(), { type: 'pin.resendFor', kioskId: '1', pickupId: 'P1', now: NOW });
  assert.equal(
    renewed.effects.map((e) => (e.type === 'send' ? `send ${e.to} ${e.message.type}` : e.type === 'io' ? `io ${e.op.kind}` : e.type)),
    ['audit', 'io issuePin', 'send auth credential.drop', 'publish', 'publish'],
  );
  assert.is(renewed.ctx.pinIssued, false);
  assert.is(renewed.ctx.pinSerial, 2);
  // A second request the same day is within the budget (2), a third is not.
  const again = pickup.step({ ...renewed.ctx, pinIssued: true }, { type: 'pin.resendFor', kioskId: '1', pickupId: 'P1', now: NOW + 1 });
  assert.is(again.ctx.pinSerial, 3);
  const refused = pickup.step({ ...again.ctx, pinIssued: true }, { type: 'pin.resendFor', kioskId: '1', pickupId: 'P1', now: NOW + 2 });
  assert.is(refused.ctx.pinSerial, 3);
  assert.ok(refused.effects.some((e) => e.type === 'audit' && e.entry.action === 'pin.resendRefused'));
});

test.run();
