import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuthCrypto, AuthCtx } from '../../actors/auth.js';
import { type RegistryCtx } from '../../actors/registry.js';
import { pickupActor } from '../../actors/pickup-actor.js';
import { pickupRowEvent, type Pickup } from '../../actors/pickup.js';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, TEST_POLICY, authUnderTest, registryUnderTest } from './registry-rig.js';

/**
 * Attack: tell a registered number from an unknown one by timing the PIN check. The auth actor
 * must do the same keyed-hash work in both cases. Counted, not timed: the actor is driven directly
 * with an AuthCrypto that counts its HMAC computations and comparisons.
 */

const KEY = TEST_PIN_KEY;
const PHONE = '+4915228817386';
const real = registryCrypto(KEY, () => '482913');
/** The pickup actor (`pickup/<id>`, its context its row), with claims that always succeed and an archive that keeps nothing. */
const pickupUnderTest = () => pickupActor(TEST_POLICY, real, { claimOnce: async () => true, release: async () => {} }, { archive: async () => {} });

function counting(): { crypto: AuthCrypto; counts: { hmac: number; equal: number } } {
  const counts = { hmac: 0, equal: 0 };
  return {
    counts,
    crypto: {
      pinHash: (pin, pickupId, serial) => (counts.hmac++, real.pinHash(pin, pickupId, serial)),
      numberKey: (phone) => (counts.hmac++, real.numberKey(phone)),
      equal: (a, b) => (counts.equal++, real.equal(a, b)),
    },
  };
}

/** The auth actor holding the live PINs (482913) of `pickups` READY pickups of PHONE. */
function authWith(pickups: number): AuthCtx {
  const credentials: AuthCtx['credentials'] = {};
  for (let i = 1; i <= pickups; i++) credentials[`P${i}`] = { pickupId: `P${i}`, numberKey: real.numberKey(PHONE), serial: 1, pinHash: real.pinHash('482913', `P${i}`, 1) };
  return { credentials, numberThrottles: {}, kioskThrottles: {} };
}

/** A READY pickup of PHONE: its row (its PIN made, its hash with the auth actor). */
function readyPickup(i: number, extra: Partial<Pickup> = {}): Pickup {
  return {
    id: `P${i}`, reference: `V-HMAC-${i}`, documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'READY',
    phone: PHONE, birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true, pinQueued: true,
    compartmentId: 'A01', failedAttempts: 0, claim: null, opId: null, createdAt: 0, updatedAt: 0, readyAt: 0,
    expiresAt: TEST_POLICY.windowMs, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false, ...extra,
  };
}

/** Keyed-hash work of one PIN check of `phone` with a wrong PIN. */
function workOf(phone: string, pickups = 1) {
  const { crypto, counts } = counting();
  const { effects } = authUnderTest(crypto).step(authWith(pickups), { type: 'auth.pin', sessionId: '1-1', kioskId: '1', phone, pin: '111111', now: 1_000 });
  const reply = effects.find((e) => e.type === 'send' && e.to === 'session/1-1');
  return { ...counts, reply: reply?.type === 'send' ? reply.message : null };
}

test("a right PIN goes to the pickup's actor as a match of its serial; the pickup is claimed for the session", () => {
  const auth = authUnderTest(real);
  const checked = auth.step(authWith(2), { type: 'auth.pin', sessionId: '1-1', kioskId: '1', phone: PHONE, pin: '482913', now: 1_000 });
  assert.equal(checked.effects, [{ type: 'send', to: 'pickup/P1', message: { type: 'pin.matched', sessionId: '1-1', kioskId: '1', pickupId: 'P1', serial: 1 } }]);
  const pickup = pickupUnderTest();
  const ctx: Pickup = pickup.init({ row: readyPickup(1) }, 'pickup/P1');
  const right = pickup.step(ctx, { type: 'pin.matched', sessionId: '1-1', kioskId: '1', pickupId: 'P1', serial: 1, now: 1_000 });
  assert.equal(
    right.effects,
    [
      { type: 'audit', entry: { action: 'auth.pinAccepted', actor: '1', subject: 'V-HMAC-1', detail: { session: '1-1' } } },
      { type: 'send', to: 'session/1-1', message: { type: 'auth.pinAccepted', documentKind: 'ID_CARD', oldIdRegistered: false, pickupId: 'P1' } },
      { type: 'publish', event: pickupRowEvent('P1', right.ctx) },
    ],
    'the whole effect list, in order: audited, accepted to the session, the claimed row published for readers',
  );
  assert.is(right.ctx.claim?.sessionId, '1-1', 'the published row is the claimed one');
  // A match of a PIN that died meanwhile (a new one was made) opens nothing and is not counted.
  const stale = pickup.step(ctx, { type: 'pin.matched', sessionId: '1-1', kioskId: '1', pickupId: 'P1', serial: 0, now: 1_000 });
  assert.equal(stale.effects, [{ type: 'send', to: 'session/1-1', message: { type: 'auth.rejected', retryAt: null } }]);
  assert.is(stale.ctx, ctx);
});

test('state a registry saved before the auth actor: its PIN hashes and throttles are handed over once, and a right PIN works after', () => {
  const registry = registryUnderTest(real);
  const legacy = (p: Pickup, pinHash: string | null) => ({ ...p, pinIssued: undefined, pinHash }) as unknown as Pickup;
  const throttle = { failures: 2, until: 0, at: 500 };
  const ctx: RegistryCtx = {
    ...registry.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'registry'),
    pickups: { P1: legacy(readyPickup(1), real.pinHash('482913', 'P1', 1)), P2: legacy(readyPickup(2, { status: 'COLLECTED' }), null) },
    byReference: { 'V-HMAC-1': 'P1', 'V-HMAC-2': 'P2' },
    numberThrottles: { [real.numberKey(PHONE)]: throttle },
    kioskThrottles: { 1: throttle },
    byNumber: { [real.numberKey(PHONE)]: ['P1'] },
  };
  const handed = registry.step(ctx, { type: 'auth.started', now: 1_000 });
  const adopt = handed.effects.find((e) => e.type === 'send' && e.to === 'auth');
  assert.equal(adopt && adopt.type === 'send' ? adopt.message : null, {
    type: 'auth.adopt',
    credentials: [{ pickupId: 'P1', numberKey: real.numberKey(PHONE), serial: 1, pinHash: real.pinHash('482913', 'P1', 1) }],
    numberThrottles: { [real.numberKey(PHONE)]: throttle },
    kioskThrottles: { 1: throttle },
  });
  assert.not.ok(JSON.stringify(handed.ctx).includes('pinHash'), 'no PIN hash is left in the registry');
  assert.equal([handed.ctx.pickups.P1!.pinIssued, handed.ctx.pickups.P2!.pinIssued], [true, false]);
  assert.equal([handed.ctx.numberThrottles, handed.ctx.kioskThrottles, handed.ctx.byNumber], [undefined, undefined, undefined]);
  // The auth actor takes them, and the right PIN matches the pickup.
  const auth = authUnderTest(real);
  const adopted = auth.step(auth.init(undefined, 'auth'), { ...(adopt as { message: { type: 'auth.adopt' } }).message, now: 1_000 } as never).ctx;
  assert.equal(adopted.kioskThrottles['1'], throttle);
  const right = auth.step(adopted, { type: 'auth.pin', sessionId: '1-1', kioskId: '1', phone: PHONE, pin: '482913', now: 1_000 });
  // Addressed to the pickup; one an earlier version registered has no actor of its own, so the box
  // passes it to the registry (the supervisor's fallback), whose row takes the match.
  const matched = { type: 'pin.matched', sessionId: '1-1', kioskId: '1', pickupId: 'P1', serial: 1 } as const;
  assert.equal(right.effects, [{ type: 'send', to: 'pickup/P1', message: matched }]);
  const accepted = registry.step(handed.ctx, { ...matched, now: 1_000 });
  assert.ok(accepted.effects.some((e) => e.type === 'send' && e.to === 'session/1-1' && e.message.type === 'auth.pinAccepted'), 'the registry accepts the match for its row');
  assert.is(accepted.ctx.pickups.P1!.claim?.sessionId, '1-1');
  // Another new auth actor later (its state lost): nothing to hand over; the READY pickup's PIN,
  // whose hash went with the lost state, is replaced by a new one.
  const reset = registry.step(handed.ctx, { type: 'auth.started', now: 2_000 });
  assert.equal(
    reset.effects.filter((e) => e.type !== 'publish').map((e) => (e.type === 'send' ? `send ${e.to} ${e.message.type}` : e.type === 'io' ? `io ${e.op.kind}` : `audit ${e.type === 'audit' ? e.entry.action : ''}`)),
    ['audit pin.reissuedAfterAuthReset', 'io issuePin', 'send auth credential.drop'],
  );
  assert.equal([reset.ctx.pickups.P1!.pinSerial, reset.ctx.pickups.P1!.pinIssued], [2, false]);
  assert.is(reset.ctx.pickups.P2, handed.ctx.pickups.P2, 'an ended pickup is left alone');
});

test("a wrong PIN on a number with two pickups goes to each pickup's actor as a message of its own, sent aside, each counted on its own pickup", () => {
  const auth = authUnderTest(real);
  const checked = auth.step(authWith(2), { type: 'auth.pin', sessionId: '1-1', kioskId: '1', phone: PHONE, pin: '111111', now: 1_000 });
  const toPickups = checked.effects.filter((e) => e.type === 'send' && e.to.startsWith('pickup/'));
  assert.equal(toPickups, [
    { type: 'send', to: 'pickup/P1', message: { type: 'pin.missed', kioskId: '1', pickupId: 'P1', serial: 1 }, aside: true },
    { type: 'send', to: 'pickup/P2', message: { type: 'pin.missed', kioskId: '1', pickupId: 'P2', serial: 1 }, aside: true },
  ]);
  const pickup = pickupUnderTest();
  const rows: Record<string, Pickup> = {
    'pickup/P1': pickup.init({ row: readyPickup(1) }, 'pickup/P1'),
    'pickup/P2': pickup.init({ row: readyPickup(2, { compartmentId: 'A02' }) }, 'pickup/P2'),
  };
  const audits: string[] = [];
  for (const e of toPickups) {
    if (e.type !== 'send') continue;
    const step = pickup.step(rows[e.to]!, { ...(e.message as { type: 'pin.missed'; kioskId: string; pickupId: string; serial: number }), now: 1_000 });
    rows[e.to] = step.ctx;
    for (const x of step.effects) if (x.type === 'audit') audits.push(`${x.entry.action} ${x.entry.subject ?? x.entry.actor}`);
  }
  assert.equal([rows['pickup/P1']!.failedAttempts, rows['pickup/P2']!.failedAttempts], [1, 1]);
  assert.equal(audits, ['auth.failed V-HMAC-1', 'auth.failed V-HMAC-2']);
});

test('a wrong PIN a pickup no longer counts (its PIN renewed meanwhile) is audited as not counted, not as a second auth.failed', () => {
  const pickup = pickupUnderTest();
  const row = pickup.init({ row: readyPickup(1, { pinSerial: 2 }) }, 'pickup/P1');
  const step = pickup.step(row, { type: 'pin.missed', kioskId: '1', pickupId: 'P1', serial: 1, now: 1_000 });
  assert.is(step.ctx, row, 'nothing counted');
  assert.equal(step.effects, [{ type: 'audit', entry: { action: 'pin.notCounted', actor: '1', subject: 'V-HMAC-1', detail: { factor: 'pin' } } }]);
  // An earlier version's message naming every pickup of the number, still in a store for the
  // registry (its rows are an earlier version's too), counted on none: one auth.failed for the
  // kiosk, as that version wrote.
  const registry = registryUnderTest(real);
  const ctx: RegistryCtx = { ...registry.init({ compartments: [] }, 'registry'), pickups: { P1: readyPickup(1, { pinSerial: 2 }) } };
  const legacy = registry.step(ctx, { type: 'pin.missed', kioskId: '1', pickups: [{ pickupId: 'P1', serial: 1 }], now: 1_000 });
  assert.equal(legacy.effects, [{ type: 'audit', entry: { action: 'auth.failed', actor: '1', detail: { factor: 'pin' } } }]);
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
