import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allocationActor, type AllocationCtx, type Slot } from '../../actors/allocation.js';
import type { Pickup } from '../../actors/pickup.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Effect } from '../../actors/runtime/types.js';
import { registryUnderTest, TEST_POLICY } from '../security/registry-rig.js';

// After a restart every compartment says what it holds. The registry passes the report on to the
// allocation actor, whose slots say which pickup each compartment is given to; it keeps a free
// compartment that says it holds a pickup from new loads, and asks the pickups concerned (the one
// the compartment holds, the one the slot is given to) whether they are recorded in it. A pickup
// that disagrees calls staff (OCCUPANCY_MISMATCH). No actor looks through the pickups for the
// one recorded in a compartment: each pickup answers for its own row.

const NOW = Date.UTC(2026, 11, 2, 9, 0, 0);
const allocation = allocationActor({ claimOnce: async () => true, release: async () => {} });
const registry = registryUnderTest();
const slot = (patch: Partial<Slot>): Slot => ({ size: 'S', accessible: false, available: true, pickupId: null, ...patch });
const slots: AllocationCtx = { slots: { A01: slot({ pickupId: 'P1', claimedBy: 'V-1' }), A02: slot({}) } };

type Effects = Effect<unknown>[];
const checks = (effects: Effects) => effects.flatMap((e) => (e.type === 'send' && e.message.type === 'occupancy.check' ? [`${e.to} ${JSON.stringify(e.message)}`] : []));
const check = (compartmentId: string, reported: string | null, pickupId: string) => `registry ${JSON.stringify({ type: 'occupancy.check', compartmentId, reported, pickupId })}`;

test('registry: passes a compartment\'s report on to the allocation actor; an open compartment is left to its closing', () => {
  const ctx = registry.init(undefined, 'registry');
  const passed = registry.step(ctx, { type: 'compartment.report', compartmentId: 'A01', pickupId: 'P1', state: 'occupied', now: NOW });
  assert.equal(passed.effects, [{ type: 'send', to: 'allocation', message: { type: 'compartment.report', compartmentId: 'A01', pickupId: 'P1', state: 'occupied' } }]);
  assert.is(passed.ctx, ctx);
  assert.equal(registry.step(ctx, { type: 'compartment.report', compartmentId: 'A01', pickupId: 'P1', state: 'open', now: NOW }).effects, []);
  assert.is(registry.partitionOf!(ctx, { type: 'compartment.report', compartmentId: 'A01', pickupId: 'P1', state: 'occupied' }), null, 'it concerns the compartment: a quarantined pickup does not stop the check');
});

test('allocation: asks the pickup the compartment holds and the pickup its slot is given to, once each', () => {
  const report = (compartmentId: string, pickupId: string | null) => allocation.step(slots, { type: 'compartment.report', compartmentId, pickupId, state: pickupId ? 'occupied' : 'empty', now: NOW });
  const agree = report('A01', 'P1');
  assert.equal(checks(agree.effects), [check('A01', 'P1', 'P1')]);
  assert.is(agree.ctx, slots, 'nothing changes');
  assert.equal(checks(report('A01', 'P7').effects), [check('A01', 'P7', 'P7'), check('A01', 'P7', 'P1')]);
  assert.equal(checks(report('A01', null).effects), [check('A01', null, 'P1')]);
  assert.equal(checks(report('A02', null).effects), [], 'free and empty: nobody to ask');
  // A free compartment that says it holds a pickup is kept from new loads until staff looked.
  const held = report('A02', 'P9');
  assert.equal(checks(held.effects), [check('A02', 'P9', 'P9')]);
  assert.equal(held.ctx.slots.A02, slot({ pickupId: 'P9', reported: true }));
  assert.is(report('A09', 'P9').ctx, slots, 'a compartment no longer in the layout: nothing reserved');
});

/** P1 in A01 with `status`. */
function withP1(status: Pickup['status'], patch: Partial<Pickup> = {}): RegistryCtx {
  const ctx = registry.init(undefined, 'registry');
  const p1: Pickup = {
    id: 'P1', reference: 'V-1', documentKind: 'ID_CARD', documents: 1, accessible: false, status,
    phone: '+4915228817386', birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true,
    pinQueued: true, compartmentId: 'A01', failedAttempts: 0, claim: null, opId: null,
    createdAt: 0, updatedAt: 0, readyAt: 0, expiresAt: NOW + TEST_POLICY.windowMs, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
    ...patch,
  };
  return { ...ctx, pickups: { P1: p1 }, byReference: { 'V-1': 'P1' } };
}
const alarmText = (effects: Effects) => effects.flatMap((e) => (e.type === 'send' && e.to === 'alarms' ? [e.message as unknown as { code: string; key: string; text: string }] : []));
const asked = (ctx: RegistryCtx, reported: string | null) => registry.step(ctx, { type: 'occupancy.check', compartmentId: 'A01', reported, pickupId: 'P1', now: NOW });

test('pickup: a compartment that holds it while it is recorded in it, or holds nothing while it is being loaded or released, is no mismatch', () => {
  assert.equal(asked(withP1('READY'), 'P1').effects, []);
  assert.equal(asked(withP1('LOADING'), null).effects, [], 'staff are putting it in');
  assert.equal(asked(withP1('RELEASING'), null).effects, [], 'the citizen is taking it out');
  assert.equal(asked(withP1('COLLECTED', { compartmentId: null, endedAt: NOW }), null).effects, [], 'over: recorded nowhere');
});

test('pickup: a compartment that holds it while it is over or recorded elsewhere, or holds nothing or another while it is recorded in it, calls staff', () => {
  const cases: Array<[RegistryCtx, string | null, string]> = [
    [withP1('COLLECTED', { endedAt: NOW }), 'P1', 'Compartment A01 reports it holds V-1, the registry has pickup V-1 (COLLECTED) in A01'],
    [withP1('READY', { compartmentId: 'A02' }), 'P1', 'Compartment A01 reports it holds V-1, the registry has pickup V-1 (READY) in A02'],
    [withP1('READY'), null, 'Compartment A01 reports it holds nothing, the registry has pickup V-1 (READY) in it'],
    [withP1('LOADING'), 'P7', 'Compartment A01 reports it holds P7, the registry has pickup V-1 (LOADING) in it'],
    [registry.init(undefined, 'registry'), 'P1', 'Compartment A01 reports it holds P1, the registry has no pickup P1'],
  ];
  for (const [ctx, reported, text] of cases) {
    const { ctx: after, effects } = asked(ctx, reported);
    const [alarm] = alarmText(effects);
    assert.ok(alarm?.text.startsWith(text), `${alarm?.text} should start with ${text}`);
    assert.equal([alarm!.code, alarm!.key], ['OCCUPANCY_MISMATCH', 'occupancy:A01']);
    assert.ok(effects.some((e) => e.type === 'audit' && e.entry.action === 'occupancy.mismatch'));
    assert.is(after, ctx, 'nothing changes: staff look');
  }
  assert.is(registry.partitionOf!(withP1('READY'), { type: 'occupancy.check', compartmentId: 'A01', reported: null, pickupId: 'P1' }), 'P1');
});

test.run();
