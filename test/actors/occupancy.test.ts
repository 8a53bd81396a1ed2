import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compartmentActor, type CompartmentCtx } from '../../actors/compartment.js';
import type { Pickup } from '../../actors/pickup.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Effect } from '../../actors/runtime/types.js';
import { registryUnderTest, TEST_POLICY } from '../security/registry-rig.js';

// After a restart every compartment says what it holds, and each side checks the other: the
// compartment tells the pickup it holds (`occupancy.check`), and every pickup recorded in a
// compartment asks it (`occupancy.expect`, from the pickup's recovery). Whoever finds a
// disagreement calls staff (OCCUPANCY_MISMATCH). The registry keeps a compartment that holds a
// pickup from new loads (`reserve` at the allocation actor). No actor looks through the pickups
// for the one recorded in a compartment, nor trusts the allocation actor's slots for it.

const NOW = Date.UTC(2026, 11, 2, 9, 0, 0);
const registry = registryUnderTest();
const compartment = compartmentActor({ doorWindowMs: 30_000, doorLeftOpenMs: 60_000 }, { pulse: async () => {}, door: async () => 'closed' });

type Effects = Effect<unknown>[];
const sent = (effects: Effects) => effects.flatMap((e) => (e.type === 'send' ? [`${e.to} ${JSON.stringify(e.message)}`] : []));

test('compartment: recovered, it tells the registry what it holds and the pickup it holds; an empty one tells only the registry', () => {
  const holding: CompartmentCtx = { ...compartment.init({ id: 'A01', size: 'S', accessible: false }, 'compartment/A01'), state: 'occupied', pickupId: 'P1' };
  const told = sent(compartment.step(holding, { type: 'recovered', now: NOW }).effects);
  assert.ok(told.includes(`registry ${JSON.stringify({ type: 'compartment.report', compartmentId: 'A01', pickupId: 'P1', state: 'occupied' })}`));
  assert.ok(told.includes(`registry ${JSON.stringify({ type: 'occupancy.check', compartmentId: 'A01', reported: 'P1', pickupId: 'P1' })}`), 'to the pickup (the registry holds the pickups)');
  const empty = compartment.init({ id: 'A02', size: 'S', accessible: false }, 'compartment/A02');
  assert.not.ok(sent(compartment.step(empty, { type: 'recovered', now: NOW }).effects).some((m) => m.includes('occupancy.check')));
});

test('compartment: a pickup recorded in it that it does not hold is a mismatch, unless the pickup is being loaded or released into an empty one, or the door is open', () => {
  const base = compartment.init({ id: 'A01', size: 'S', accessible: false }, 'compartment/A01');
  const holdingP7: CompartmentCtx = { ...base, state: 'occupied', pickupId: 'P7' };
  const expect = (ctx: CompartmentCtx, status: string) => compartment.step(ctx, { type: 'occupancy.expect', pickupId: 'P1', reference: 'V-1', status, now: NOW }).effects;
  const alarm = (effects: Effects) => effects.flatMap((e) => (e.type === 'send' && e.to === 'alarms' ? [e.message as unknown as { code: string; key: string; text: string }] : []));
  assert.equal(expect({ ...base, state: 'occupied', pickupId: 'P1' }, 'READY'), [], 'it holds it');
  assert.equal(expect(base, 'LOADING'), [], 'staff are putting it in');
  assert.equal(expect(base, 'RELEASING'), [], 'being released');
  assert.equal(expect({ ...holdingP7, state: 'open' }, 'READY'), [], 'open: its closing checks it');
  const [empty] = alarm(expect(base, 'READY'));
  assert.equal([empty!.code, empty!.key], ['OCCUPANCY_MISMATCH', 'occupancy:A01']);
  assert.ok(empty!.text.startsWith('Compartment A01 reports it holds nothing, the registry has pickup V-1 (READY) in it'), empty!.text);
  const [other] = alarm(expect(holdingP7, 'LOADING'));
  assert.ok(other!.text.startsWith('Compartment A01 reports it holds P7, the registry has pickup V-1 (LOADING) in it'), other!.text);
});

test('registry: a compartment that holds a pickup is kept from new loads; an empty or open one asks nothing', () => {
  const ctx = registry.init(undefined, 'registry');
  const report = (pickupId: string | null, state: string) => registry.step(ctx, { type: 'compartment.report', compartmentId: 'A01', pickupId, state, now: NOW });
  assert.equal(report('P1', 'occupied').effects, [{ type: 'send', to: 'allocation', message: { type: 'reserve', compartmentId: 'A01', pickupId: 'P1' } }]);
  assert.equal(report(null, 'free').effects, []);
  assert.equal(report('P1', 'open').effects, []);
  assert.is(registry.partitionOf!(ctx, { type: 'compartment.report', compartmentId: 'A01', pickupId: 'P1', state: 'occupied' }), null, 'it concerns the compartment: a quarantined pickup does not stop it');
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

test("pickup: at its recovery after a restart, one recorded in a compartment asks it what it holds; one that is over asks nothing", () => {
  const asks = (ctx: RegistryCtx) => sent(registry.step(ctx, { type: 'recovered', now: NOW }).effects).filter((m) => m.includes('occupancy.expect'));
  assert.equal(asks(withP1('READY')), [`compartment/A01 ${JSON.stringify({ type: 'occupancy.expect', pickupId: 'P1', reference: 'V-1', status: 'READY' })}`]);
  assert.equal(asks(withP1('COLLECTED', { compartmentId: null, endedAt: NOW })), []);
});

test.run();
