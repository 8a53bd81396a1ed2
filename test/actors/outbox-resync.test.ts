import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { outboxActor, type OutboxCtx } from '../../actors/outbox.js';
import type { Pickup } from '../../actors/pickup.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Effect } from '../../actors/runtime/types.js';
import { pickupUnderTest, registryUnderTest, spawnedRow } from '../security/registry-rig.js';

// An SMS outbox back after a crash or a revival tells the registry, which tells every pickup (each
// an actor of its own; its own table's pickups it runs itself); each pickup names the PIN message it
// has not heard confirmed (`sms.expect`, sent after every `sms.enqueue` before it); one the outbox
// neither holds nor delivered was refused while it was failed, and goes back to its pickup's actor,
// which gets a new PIN (the PIN itself is never kept, so the lost message cannot be written again).
// An earlier version's registry named every such message in one list, answered to the registry.

const outbox = outboxActor({ maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 }, { send: async () => {} } as never);
const registry = registryUnderTest();
const pickup = pickupUnderTest();
const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);

/** `reference` registered at the registry (`ctx`): the registry after it, and the row its actor `pickup/<id>` was spawned with. */
function register(ctx: RegistryCtx, reference: string, phone: string, id: string) {
  const registered = registry.step(ctx, { type: 'pickup.register', input: { reference, documentKind: 'ID_CARD', phone, birthDate: '1980-04-12' }, requestId: `r-${reference}`, replyTo: 'replies', now: NOW });
  return { ctx: registered.ctx, row: spawnedRow(registered.effects, `pickup/${id}`) };
}
/** A registry whose table holds `rows`, as an earlier version registered them (not actors of their own). */
const legacyRegistry = (rows: Pickup[]): RegistryCtx => ({
  ...registry.init(undefined, 'registry'),
  seq: rows.length,
  pickups: Object.fromEntries(rows.map((p) => [p.id, p])),
  byReference: Object.fromEntries(rows.map((p) => [p.reference, p.id])),
});
/** What went to the outbox: SMS by id, other messages by type. */
const toOutbox = (effects: ReadonlyArray<Effect<unknown>>) => effects.flatMap((e) => (e.type === 'send' && e.to === 'outbox' ? [(e.message as { id?: string; type: string }).id ?? e.message.type] : []));

test('outbox: revived, it asks the registry; of the messages expected, it names those it neither holds nor delivered to their pickup', () => {
  const ctx: OutboxCtx = { pending: { 'pin-P1-1': { id: 'pin-P1-1', to: '+49', text: 't', attempts: 1, nextAt: NOW + 60_000, failed: false } }, delivered: { 'pin-P2-1': NOW - 1 }, sentCount: 1, failedCount: 0 };
  assert.ok(outbox.step(ctx, { type: 'restarted', now: NOW }).effects.some((e) => e.type === 'send' && e.to === 'registry' && e.message.type === 'outbox.restarted'));
  const expect = (pickupId: string, id: string) => outbox.step(ctx, { type: 'sms.expect', ids: [id], pickupId, now: NOW }).effects;
  assert.equal(expect('P3', 'pin-P3-2'), [{ type: 'send', to: 'pickup/P3', message: { type: 'sms.missing', ids: ['pin-P3-2'], pickupId: 'P3' } }], 'back to its pickup');
  assert.equal(expect('P1', 'pin-P1-1'), [], 'held: nothing said');
  assert.equal(expect('P2', 'pin-P2-1'), [], 'delivered: nothing said');
  // An earlier version's registry: one list, one answer.
  const { effects } = outbox.step(ctx, { type: 'sms.expect', ids: ['pin-P1-1', 'pin-P2-1', 'pin-P3-2'], now: NOW });
  assert.equal(effects, [{ type: 'send', to: 'registry', message: { type: 'sms.missing', ids: ['pin-P3-2'] } }]);
  assert.equal(outbox.step(ctx, { type: 'sms.expect', ids: ['pin-P1-1'], now: NOW }).effects, [], 'nothing missing: nothing said');
});

test('pickup: it expects its PIN message not confirmed, and replaces its PIN only while its message is still the missing one', () => {
  const { row: registered } = register(registry.init(undefined, 'registry'), 'V-1', '+4915228817386', 'P1');
  const row: Pickup = { ...registered, status: 'READY', pinSerial: 1, pinIssued: true, pinQueued: false, compartmentId: 'A01' };
  const asked = pickup.step(row, { type: 'outbox.restarted', now: NOW });
  assert.equal(asked.effects, [{ type: 'send', to: 'outbox', message: { type: 'sms.expect', ids: ['pin-P1-1'], pickupId: 'P1' } }]);

  const lost = pickup.step(row, { type: 'sms.missing', ids: ['pin-P1-1'], pickupId: 'P1', now: NOW });
  assert.is(lost.ctx.pinSerial, 2, 'a new PIN, by SMS');
  assert.ok(lost.effects.some((e) => e.type === 'audit' && e.entry.action === 'pin.reissuedAfterOutboxFailure'));
  // Confirmed meanwhile (the message was on its way after all), or replaced: nothing to do.
  const confirmed: Pickup = { ...row, pinQueued: true };
  assert.is(pickup.step(confirmed, { type: 'sms.missing', ids: ['pin-P1-1'], pickupId: 'P1', now: NOW }).ctx, confirmed);
  assert.equal(pickup.step(confirmed, { type: 'outbox.restarted', now: NOW }).effects, [], 'confirmed: no PIN message is expected');
  assert.is(pickup.step(row, { type: 'sms.missing', ids: ['pin-P1-0'], pickupId: 'P1', now: NOW }).ctx, row);
});

test("registry: it tells every pickup of its own that the outbox is back; its table's pickups expect their PIN messages, each replaced only while still missing", () => {
  const first = register(registry.init(undefined, 'registry'), 'V-1', '+4915228817386', 'P1');
  // P1 is an actor of its own; P7 a row an earlier version registered, READY with its PIN message not confirmed.
  const legacy: Pickup = { ...first.row, id: 'P7', reference: 'V-7', status: 'READY', pinSerial: 1, pinIssued: true, pinQueued: false, compartmentId: 'A01' };
  const ctx: RegistryCtx = { ...first.ctx, seq: 7, pickups: { P7: legacy }, byReference: { ...first.ctx.byReference, 'V-7': 'P7' } };
  const asked = registry.step(ctx, { type: 'outbox.restarted', now: NOW });
  assert.equal(asked.effects, [
    { type: 'send', to: 'outbox', message: { type: 'sms.expect', ids: ['pin-P7-1'], pickupId: 'P7' } },
    { type: 'send', to: 'pickup/P1', message: { type: 'outbox.restarted' } },
  ]);

  for (const form of [{ pickupId: 'P7' }, {}]) {
    const lost = registry.step(ctx, { type: 'sms.missing', ids: ['pin-P7-1'], ...form, now: NOW });
    assert.is(lost.ctx.pickups.P7!.pinSerial, 2, 'a new PIN, by SMS');
    assert.ok(lost.effects.some((e) => e.type === 'audit' && e.entry.action === 'pin.reissuedAfterOutboxFailure'));
  }
  // Confirmed meanwhile (the message was on its way after all), or replaced: nothing to do.
  const confirmed = { ...ctx, pickups: { P7: { ...legacy, pinQueued: true } } };
  assert.is(registry.step(confirmed, { type: 'sms.missing', ids: ['pin-P7-1'], pickupId: 'P7', now: NOW }).ctx, confirmed);
  assert.is(registry.step(ctx, { type: 'sms.missing', ids: ['pin-P7-0'], pickupId: 'P7', now: NOW }).ctx, ctx);
  assert.is(registry.step(ctx, { type: 'sms.missing', ids: ['pin-P7-1'], pickupId: 'P2', now: NOW }).ctx, ctx, 'another pickup named: nothing to do');
  assert.is(registry.partitionOf!(ctx, { type: 'sms.missing', ids: ['pin-P7-1'], pickupId: 'P7' }), 'P7', "the pickup's partition: a pickup whose handling crashes fails alone");
  const quarantined = registry.step(ctx, { type: 'sms.missing', ids: ['pin-P7-1'], now: NOW, quarantined: new Set(['P7']) });
  assert.is(quarantined.ctx, ctx, "an earlier version's list leaves a quarantined pickup alone");
});

test('pickup: a revived outbox is sent the reminder and expiry notices again, under their ids (by its own actor, and by the registry for its table)', () => {
  const first = register(registry.init(undefined, 'registry'), 'V-1', '+4915228817386', 'P1');
  const second = register(first.ctx, 'V-2', '+4915228817387', 'P2');
  const base = { pinSerial: 1, pinIssued: true, pinQueued: true, compartmentId: 'A01', expiresAt: NOW + 86_400_000 };
  const p1: Pickup = { ...first.row, ...base, status: 'READY', reminderSent: true };
  const p2: Pickup = { ...second.row, ...base, compartmentId: 'A02', status: 'EXPIRED' };
  const own = [p1, p2].flatMap((p) => toOutbox(pickup.step(p, { type: 'outbox.restarted', now: NOW }).effects));
  assert.equal(own, ['remind-P1', 'expired-P2'], 'no PIN message is expected: both were confirmed');
  const inTable = toOutbox(registry.step(legacyRegistry([p1, p2]), { type: 'outbox.restarted', now: NOW }).effects);
  assert.equal(inTable, ['remind-P1', 'expired-P2']);
});

test.run();
