import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pickupRowEvent, type Pickup, type RegistryCrypto, type RegistryCtx } from '../../actors/registry.js';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, TEST_POLICY, registryUnderTest } from './registry-rig.js';

/**
 * Attack: tell a registered number from an unknown one by timing the PIN check. The registry must
 * do the same keyed-hash work in both cases. Counted, not timed: the registry actor is driven
 * directly with a RegistryCrypto that counts its HMAC computations and comparisons.
 */

const KEY = TEST_PIN_KEY;
const PHONE = '+4915228817386';

function counting(): { crypto: RegistryCrypto; counts: { hmac: number; equal: number } } {
  const real = registryCrypto(KEY, () => '482913');
  const counts = { hmac: 0, equal: 0 };
  return {
    counts,
    crypto: {
      pinHash: (pin, pickupId, serial) => (counts.hmac++, real.pinHash(pin, pickupId, serial)),
      numberKey: (phone) => (counts.hmac++, real.numberKey(phone)),
      equal: (a, b) => (counts.equal++, real.equal(a, b)),
      generatePin: real.generatePin,
    },
  };
}


/** A registry with `pickups` READY pickups for PHONE, each with PIN 482913. */
function registryWith(crypto: RegistryCrypto, pickups: number): RegistryCtx {
  const actor = registryUnderTest(crypto);
  const ctx = actor.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'registry');
  const real = registryCrypto(KEY);
  for (let i = 1; i <= pickups; i++) {
    const p: Pickup = {
      id: `P${i}`,
      reference: `V-HMAC-${i}`,
      documentKind: 'ID_CARD',
      documents: 1,
      accessible: false,
      status: 'READY',
      phone: PHONE,
      birthDate: '1980-04-12',
      oldDocumentNumber: null,
      pinHash: real.pinHash('482913', `P${i}`, 1),
      pinSerial: 1,
      pinQueued: true,
      compartmentId: 'A01',
      failedAttempts: 0,
      claim: null,
      opId: null,
      createdAt: 0,
      updatedAt: 0,
      readyAt: 0,
      expiresAt: TEST_POLICY.windowMs,
      reminderSent: false,
      endedAt: null,
      purgeAt: null,
      personalDataDeleted: false,
    };
    ctx.pickups[p.id] = p;
    ctx.byReference[p.reference] = p.id;
  }
  // The number index, as registrations build it: the PIN check finds the pickups through it.
  ctx.byNumber = { [real.numberKey(PHONE)]: Object.keys(ctx.pickups) };
  return ctx;
}

/** Keyed-hash work of one PIN check of `phone` with a wrong PIN. */
function workOf(phone: string, pickups = 1) {
  const { crypto, counts } = counting();
  const actor = registryUnderTest(crypto);
  const ctx = registryWith(crypto, pickups);
  counts.hmac = 0;
  counts.equal = 0;
  const { effects } = actor.step(ctx, { type: 'auth.pin', sessionId: '1-1', kioskId: '1', phone, pin: '111111', now: 1_000 });
  const reply = effects.find((e) => e.type === 'send' && e.to === 'session/1-1');
  return { ...counts, reply: reply?.type === 'send' ? reply.message : null };
}

test('the PIN check finds the pickups of the number through the index, and falls back to a scan in state saved before it', () => {
  const { crypto } = counting();
  const actor = registryUnderTest(crypto);
  const indexed = registryWith(crypto, 2);
  const right = actor.step(indexed, { type: 'auth.pin', sessionId: '1-1', kioskId: '1', phone: PHONE, pin: '482913', now: 1_000 });
  assert.ok(right.effects.some((e) => e.type === 'send' && e.message.type === 'auth.pinAccepted'), 'the right PIN is found through the index');
  assert.equal(
    right.effects,
    [
      { type: 'audit', entry: { action: 'auth.pinAccepted', actor: '1', subject: 'V-HMAC-1', detail: { session: '1-1' } } },
      { type: 'send', to: 'session/1-1', message: { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdPossible: false } },
      { type: 'publish', event: pickupRowEvent('P1', right.ctx.pickups.P1!) },
    ],
    'the whole effect list, in order: audited, accepted to the session, the claimed row published for readers',
  );
  const { byNumber: _index, ...older } = indexed;
  const before = actor.step(older, { type: 'auth.pin', sessionId: '1-1', kioskId: '1', phone: PHONE, pin: '482913', now: 1_000 });
  assert.ok(before.effects.some((e) => e.type === 'send' && e.message.type === 'auth.pinAccepted'), 'state without the index is scanned');
  assert.equal(before.effects, right.effects, 'the scan answers with exactly the effects the index does');
  assert.is(right.ctx.pickups.P1!.claim?.sessionId, '1-1', 'the published row is the claimed one');
  const { byNumber: _rightIndex, ...rightWithoutIndex } = right.ctx;
  assert.equal(before.ctx, rightWithoutIndex, 'and leaves the same state (without the index it never had)');
  const rebuilt = actor.step(older, { type: 'recovered', now: 2_000 }).ctx;
  assert.equal(rebuilt.byNumber, indexed.byNumber, 'recovery rebuilds the index');
});

test('unknown number and wrong PIN: the same answer to the session', () => {
  const unknown = workOf('+4915228817399');
  const wrong = workOf(PHONE);
  assert.equal(unknown.reply, wrong.reply);
  assert.equal(wrong.reply, { type: 'auth.rejected', retryAt: null });
});

test('unknown number and wrong PIN: the same number of HMAC computations and constant-time comparisons', () => {
  const unknown = workOf('+4915228817399');
  const wrong = workOf(PHONE);
  assert.ok(wrong.hmac >= 2, 'the number key and the PIN hash are computed');
  assert.is(unknown.equal, wrong.equal, 'comparisons');
  assert.is(unknown.hmac, wrong.hmac, `HMACs: unknown number ${unknown.hmac}, wrong PIN ${wrong.hmac}`);
});

test('a number with several ready pickups costs the same work as one with one, or none', () => {
  const none = workOf('+4915228817399');
  const one = workOf(PHONE, 1);
  const three = workOf(PHONE, 3);
  assert.is(three.hmac, one.hmac, `HMACs: three pickups ${three.hmac}, one ${one.hmac}`);
  assert.is(three.equal, none.equal, 'comparisons');
});

test.run();
