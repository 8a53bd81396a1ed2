import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { outboxActor, type OutboxCtx } from '../../actors/outbox.js';
import { registryUnderTest } from '../security/registry-rig.js';

// An SMS outbox back after a crash or a revival hears, pickup by pickup, which PIN message the
// registry has not heard confirmed (`sms.expect`, sent after every `sms.enqueue` before it); one it
// neither holds nor delivered was refused while it was failed, and its pickup gets a new PIN (the
// PIN itself is never kept, so the lost message cannot be written again). An earlier version's
// registry named every such message in one list.

const outbox = outboxActor({ maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 }, { send: async () => {} } as never);
const registry = registryUnderTest();
const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);

test('outbox: revived, it asks the registry; of the messages expected, it names those it neither holds nor delivered', () => {
  const ctx: OutboxCtx = { pending: { 'pin-P1-1': { id: 'pin-P1-1', to: '+49', text: 't', attempts: 1, nextAt: NOW + 60_000, failed: false } }, delivered: { 'pin-P2-1': NOW - 1 }, sentCount: 1, failedCount: 0 };
  assert.ok(outbox.step(ctx, { type: 'restarted', now: NOW }).effects.some((e) => e.type === 'send' && e.to === 'registry' && e.message.type === 'outbox.restarted'));
  const expect = (pickupId: string, id: string) => outbox.step(ctx, { type: 'sms.expect', ids: [id], pickupId, now: NOW }).effects;
  assert.equal(expect('P3', 'pin-P3-2'), [{ type: 'send', to: 'registry', message: { type: 'sms.missing', ids: ['pin-P3-2'], pickupId: 'P3' } }], 'back to its pickup');
  assert.equal(expect('P1', 'pin-P1-1'), [], 'held: nothing said');
  assert.equal(expect('P2', 'pin-P2-1'), [], 'delivered: nothing said');
  // An earlier version's registry: one list, one answer.
  const { effects } = outbox.step(ctx, { type: 'sms.expect', ids: ['pin-P1-1', 'pin-P2-1', 'pin-P3-2'], now: NOW });
  assert.equal(effects, [{ type: 'send', to: 'registry', message: { type: 'sms.missing', ids: ['pin-P3-2'] } }]);
  assert.equal(outbox.step(ctx, { type: 'sms.expect', ids: ['pin-P1-1'], now: NOW }).effects, [], 'nothing missing: nothing said');
});

test('registry: it expects the PIN messages not confirmed, and replaces a PIN only while its message is still the missing one', () => {
  let ctx = registry.init(undefined, 'registry');
  ({ ctx } = registry.step(ctx, { type: 'pickup.register', input: { reference: 'V-1', documentKind: 'ID_CARD', phone: '+4915228817386', birthDate: '1980-04-12' }, requestId: 'r', replyTo: 'replies', now: NOW }));
  ctx = { ...ctx, pickups: { ...ctx.pickups, P1: { ...ctx.pickups.P1!, status: 'READY', pinSerial: 1, pinIssued: true, pinQueued: false, compartmentId: 'A01' } } };
  const asked = registry.step(ctx, { type: 'outbox.restarted', now: NOW });
  assert.equal(asked.effects, [{ type: 'send', to: 'outbox', message: { type: 'sms.expect', ids: ['pin-P1-1'], pickupId: 'P1' } }]);

  for (const form of [{ pickupId: 'P1' }, {}]) {
    const lost = registry.step(ctx, { type: 'sms.missing', ids: ['pin-P1-1'], ...form, now: NOW });
    assert.is(lost.ctx.pickups.P1!.pinSerial, 2, 'a new PIN, by SMS');
    assert.ok(lost.effects.some((e) => e.type === 'audit' && e.entry.action === 'pin.reissuedAfterOutboxFailure'));
  }
  // Confirmed meanwhile (the message was on its way after all), or replaced: nothing to do.
  const confirmed = { ...ctx, pickups: { ...ctx.pickups, P1: { ...ctx.pickups.P1!, pinQueued: true } } };
  assert.is(registry.step(confirmed, { type: 'sms.missing', ids: ['pin-P1-1'], pickupId: 'P1', now: NOW }).ctx, confirmed);
  assert.is(registry.step(ctx, { type: 'sms.missing', ids: ['pin-P1-0'], pickupId: 'P1', now: NOW }).ctx, ctx);
  assert.is(registry.step(ctx, { type: 'sms.missing', ids: ['pin-P1-1'], pickupId: 'P2', now: NOW }).ctx, ctx, 'another pickup named: nothing to do');
  assert.is(registry.partitionOf!(ctx, { type: 'sms.missing', ids: ['pin-P1-1'], pickupId: 'P1' }), 'P1', "the pickup's partition: a pickup whose handling crashes fails alone");
  const quarantined = registry.step(ctx, { type: 'sms.missing', ids: ['pin-P1-1'], now: NOW, quarantined: new Set(['P1']) });
  assert.is(quarantined.ctx, ctx, "an earlier version's list leaves a quarantined pickup alone");
});

test('registry: a revived outbox is sent the reminder and expiry notices again, under their ids', () => {
  let ctx = registry.init(undefined, 'registry');
  ({ ctx } = registry.step(ctx, { type: 'pickup.register', input: { reference: 'V-1', documentKind: 'ID_CARD', phone: '+4915228817386', birthDate: '1980-04-12' }, requestId: 'r', replyTo: 'replies', now: NOW }));
  ({ ctx } = registry.step(ctx, { type: 'pickup.register', input: { reference: 'V-2', documentKind: 'ID_CARD', phone: '+4915228817387', birthDate: '1980-04-12' }, requestId: 'r2', replyTo: 'replies', now: NOW }));
  const base = { pinSerial: 1, pinIssued: true, pinQueued: true, compartmentId: 'A01', expiresAt: NOW + 86_400_000 };
  ctx = { ...ctx, pickups: { P1: { ...ctx.pickups.P1!, ...base, status: 'READY', reminderSent: true }, P2: { ...ctx.pickups.P2!, ...base, compartmentId: 'A02', status: 'EXPIRED' } } };
  const sent = registry.step(ctx, { type: 'outbox.restarted', now: NOW }).effects.flatMap((e) => (e.type === 'send' && e.to === 'outbox' ? [(e.message as { id?: string; type: string }).id ?? e.message.type] : []));
  assert.equal(sent, ['remind-P1', 'expired-P2'], 'no PIN message is expected: both were confirmed');
});

test.run();
