import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RegistryMessage, type RegistryCtx, type RegistryEvent } from '../../actors/registry.js';
import type { Pickup } from '../../actors/pickup.js';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, TEST_POLICY, registryUnderTest } from '../security/registry-rig.js';

// The auth actor checks PINs by number; the registry hears which pickup a right PIN is for
// (`pin.matched`, `door.matched`). Those messages have no partition, so they run while a pickup is
// quarantined (PICKUP_FAILED): the supervisor tells their handlers which pickups are
// (`quarantined` on the event). A right PIN for such a pickup opens nothing, claims nothing and is
// answered at once. A wrong PIN (`pin.missed`) and a new PIN asked for (`pin.resendFor`) come one
// message per pickup, in that pickup's partition: the supervisor refuses them for a quarantined one.
// An earlier version's message naming several has no partition; its handler leaves a quarantined
// pickup alone. Pure transitions, whole effect lists.

const PHONE = '+4915228817390';
const crypto = registryCrypto(TEST_PIN_KEY);
const registry = registryUnderTest(crypto);

function readyRegistry(): RegistryCtx {
  const ctx = registry.init({ compartments: [{ id: 'A01', size: 'S', accessible: false }] }, 'registry');
  const p: Pickup = {
    id: 'P1', reference: 'V-Q-1', documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'READY',
    phone: PHONE, birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true,
    pinQueued: true, compartmentId: 'A01', failedAttempts: 0, claim: null, opId: null, createdAt: 0, updatedAt: 0, readyAt: 0,
    expiresAt: TEST_POLICY.windowMs, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
  };
  ctx.pickups[p.id] = p;
  ctx.byReference[p.reference] = p.id;
  return ctx;
}

const quarantined = new Set(['P1']);

test('the right PIN of a quarantined pickup is answered PICKUP_FAILED at once (the counter hands it out): nothing claimed, nothing counted', () => {
  const ctx = readyRegistry();
  const { ctx: next, effects } = registry.step(ctx, { type: 'pin.matched', sessionId: 's1', kioskId: '1', pickupId: 'P1', serial: 1, now: 1_000, quarantined });
  assert.equal(effects, [{ type: 'send', to: 'session/s1', message: { type: 'auth.busy', code: 'PICKUP_FAILED' } }]);
  assert.is(next, ctx, 'the registry did not change');
  // The same match without the quarantine is accepted and claims the pickup: the check above is what refused it.
  const open = registry.step(ctx, { type: 'pin.matched', sessionId: 's1', kioskId: '1', pickupId: 'P1', serial: 1, now: 1_000 });
  assert.is(open.ctx.pickups.P1!.claim?.sessionId, 's1');
});

test('the room door refuses a quarantined pickup with PICKUP_FAILED', () => {
  const ctx = readyRegistry();
  const { ctx: next, effects } = registry.step(ctx, { type: 'door.matched', kioskId: 'door', pickupId: 'P1', serial: 1, requestId: 'q1', replyTo: 'replies', now: 1_000, quarantined });
  assert.equal(effects, [
    { type: 'send', to: 'replies', message: { type: 'reply', requestId: 'q1', ok: false, code: 'PICKUP_FAILED', message: 'This pickup cannot be collected at the box: please ask at the counter' } },
  ]);
  assert.is(next, ctx);
  const open = registry.step(ctx, { type: 'door.matched', kioskId: 'door', pickupId: 'P1', serial: 1, requestId: 'q1', replyTo: 'replies', now: 1_000 });
  assert.ok(open.effects.some((e) => e.type === 'send' && e.to === 'door/room'), 'without the quarantine the room door opens');
});

test('a wrong PIN of an earlier version, naming several pickups, is not counted on a quarantined one', () => {
  const ctx = readyRegistry();
  const { ctx: next } = registry.step(ctx, { type: 'pin.missed', kioskId: '1', pickups: [{ pickupId: 'P1', serial: 1 }], now: 1_000, quarantined });
  assert.is(next.pickups.P1!.failedAttempts, 0);
  const counted = registry.step(ctx, { type: 'pin.missed', kioskId: '1', pickups: [{ pickupId: 'P1', serial: 1 }], now: 1_000 });
  assert.is(counted.ctx.pickups.P1!.failedAttempts, 1, 'without the quarantine it is counted');
});

test('a PIN resend of an earlier version, naming several pickups, gives a quarantined one no new PIN', () => {
  const ctx = readyRegistry();
  const { ctx: next, effects } = registry.step(ctx, { type: 'pin.resendFor', kioskId: '1', pickupIds: ['P1'], now: 1_000, quarantined });
  assert.equal(effects, []);
  assert.is(next, ctx, 'its row is untouched');
  const resent = registry.step(ctx, { type: 'pin.resendFor', kioskId: '1', pickupIds: ['P1'], now: 1_000 });
  assert.ok(resent.effects.some((e) => e.type === 'io' && e.op.kind === 'issuePin'), 'without the quarantine a new PIN is issued');
});

test('partitionOf names the pickup a message concerns (by id, reference, session claim, unlock, a wrong PIN or resend counted on it, or a message sent back) and none for a right PIN (answered for a quarantined pickup by the handler) or a message naming several', () => {
  const ctx = readyRegistry();
  ctx.pickups.P1 = { ...ctx.pickups.P1!, claim: { sessionId: 's1', until: 5_000, factor: null }, opId: 'op-1' };
  const of = (m: RegistryEvent) => registry.partitionOf!(ctx, m);
  assert.equal(
    [
      of({ type: 'pickup.expire', pickupId: 'P1' }),
      of({ type: 'pickup.load', reference: ' V-Q-1 ', by: 'staff', requestId: 'r', replyTo: 'replies' }),
      of({ type: 'pickup.load', reference: 'V-NONE', by: 'staff', requestId: 'r', replyTo: 'replies' }),
      of({ type: 'session.ended', sessionId: 's1' }),
      of({ type: 'session.ended', sessionId: 's2' }),
      of({ type: 'compartment.unlockFailed', compartmentId: 'A01', opId: 'op-1', purpose: 'collect', code: 'LOCK_JAMMED' }),
      of({ type: 'compartment.unlockFailed', compartmentId: 'A01', opId: 'op-9', purpose: 'collect', pickupId: 'P1', code: 'LOCK_JAMMED' }),
      of({ type: 'pin.matched', sessionId: 's1', kioskId: '1', pickupId: 'P1', serial: 1 }),
      of({ type: 'pin.missed', kioskId: '1', pickupId: 'P1', serial: 1 }),
      of({ type: 'pin.resendFor', kioskId: '1', pickupId: 'P1' }),
      of({ type: 'pin.missed', kioskId: '1', pickups: [{ pickupId: 'P1', serial: 1 }] }),
      of({ type: 'pin.resendFor', kioskId: '1', pickupIds: ['P1'] }),
      of({ type: 'delivery.failed', to: 'compartment/A01', messageType: 'unlock', message: { pickupId: 'P1', opId: 'op-1', purpose: 'collect' } }),
      of({ type: 'delivery.failed', to: 'compartment/A01', messageType: 'unlock', message: { pickupId: null, opId: 'op-2', purpose: 'service' } }),
    ],
    ['P1', 'P1', null, 'P1', null, 'P1', 'P1', null, 'P1', 'P1', null, null, 'P1', null],
  );
});

test('a wrong PIN and a resend, one message per pickup, change that pickup alone; the schema takes one pickup or an earlier version\'s several, not neither', () => {
  const ctx = readyRegistry();
  ctx.pickups.P2 = { ...ctx.pickups.P1!, id: 'P2', reference: 'V-Q-2', compartmentId: null };
  ctx.byReference['V-Q-2'] = 'P2';
  const missed = registry.step(ctx, { type: 'pin.missed', kioskId: '1', pickupId: 'P1', serial: 1, now: 1_000 });
  assert.is(missed.ctx.pickups.P1!.failedAttempts, 1);
  assert.is(missed.ctx.pickups.P2, ctx.pickups.P2, 'the other pickup of the number is its own message');
  // An earlier version's message, still in a store, counts on every pickup it names.
  const legacy = registry.step(ctx, { type: 'pin.missed', kioskId: '1', pickups: [{ pickupId: 'P1', serial: 1 }, { pickupId: 'P2', serial: 1 }], now: 1_000 });
  assert.equal([legacy.ctx.pickups.P1!.failedAttempts, legacy.ctx.pickups.P2!.failedAttempts], [1, 1]);
  const resent = registry.step(ctx, { type: 'pin.resendFor', kioskId: '1', pickupId: 'P2', now: 1_000 });
  assert.equal([resent.ctx.pickups.P1!.pinSerial, resent.ctx.pickups.P2!.pinSerial], [1, 2]);
  const parse = (m: unknown) => RegistryMessage.safeParse(m).success;
  assert.equal(
    [
      parse({ type: 'pin.missed', kioskId: '1', pickupId: 'P1', serial: 1 }),
      parse({ type: 'pin.missed', kioskId: '1', pickups: [] }),
      parse({ type: 'pin.missed', kioskId: '1' }),
      parse({ type: 'pin.missed', kioskId: '1', pickupId: 'P1' }),
      parse({ type: 'pin.missed', kioskId: '1', pickupId: 'P1', pickups: [] }),
      parse({ type: 'pin.missed', kioskId: '1', serial: 1, pickups: [] }),
      parse({ type: 'pin.resendFor', kioskId: '1', pickupId: 'P1' }),
      parse({ type: 'pin.resendFor', kioskId: '1' }),
      parse({ type: 'pin.resendFor', kioskId: '1', pickupId: 'P1', pickupIds: ['P1'] }),
    ],
    [true, true, false, false, false, false, true, false, false],
  );
});

test.run();
