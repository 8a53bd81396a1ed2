import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compartmentActor, type CompartmentCtx } from '../../actors/compartment.js';
import type { Pickup } from '../../actors/pickup.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Effect } from '../../actors/runtime/types.js';
import { pickupUnderTest, registryUnderTest, TEST_POLICY } from '../security/registry-rig.js';

// After a restart every compartment says what it holds, and each side checks the other: the
// compartment tells the pickup it holds (`occupancy.check`, to the pickup's own actor), and every
// pickup recorded in a compartment asks it (`occupancy.expect`, from the pickup's recovery). Whoever
// finds a disagreement calls staff (OCCUPANCY_MISMATCH). The registry keeps a compartment that holds
// a pickup from new loads (`reserve` at the allocation actor). No actor looks through the pickups
// for the one recorded in a compartment, nor trusts the allocation actor's slots for it. A pickup
// an earlier version registered is still a row of the registry's table, which checks it the same
// way; a pickup with no actor (archived) is the registry's to answer for too.

const NOW = Date.UTC(2026, 11, 2, 9, 0, 0);
const registry = registryUnderTest();
const pickup = pickupUnderTest();
const compartment = compartmentActor({ doorWindowMs: 30_000, doorLeftOpenMs: 60_000 }, { pulse: async () => {}, door: async () => 'closed' });

type Effects = Effect<unknown>[];
const sent = (effects: Effects) => effects.flatMap((e) => (e.type === 'send' ? [`${e.to} ${JSON.stringify(e.message)}`] : []));

test('compartment: recovered, it tells the registry what it holds and the pickup it holds; an empty one tells only the registry', () => {
  const holding: CompartmentCtx = { ...compartment.init({ id: 'A01', size: 'S', accessible: false }, 'compartment/A01'), state: 'occupied', pickupId: 'P1' };
  const told = sent(compartment.step(holding, { type: 'recovered', now: NOW }).effects);
  assert.ok(told.includes(`registry ${JSON.stringify({ type: 'compartment.report', compartmentId: 'A01', pickupId: 'P1', state: 'occupied' })}`));
  assert.ok(told.includes(`pickup/P1 ${JSON.stringify({ type: 'occupancy.check', compartmentId: 'A01', reported: 'P1', pickupId: 'P1' })}`), "to the pickup's own actor");
  assert.not.ok(told.some((m) => m.startsWith('registry ') && m.includes('occupancy.check')), 'not to the registry');
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
  assert.ok(empty!.text.startsWith('Compartment A01 reports it holds nothing, the pickups record pickup V-1 (READY) in it'), empty!.text);
  const [other] = alarm(expect(holdingP7, 'LOADING'));
  assert.ok(other!.text.startsWith('Compartment A01 reports it holds P7, the pickups record pickup V-1 (LOADING) in it'), other!.text);
});

test('registry: a compartment that holds a pickup is kept from new loads; an empty or open one asks nothing', () => {
  const ctx = registry.init(undefined, 'registry');
  const report = (pickupId: string | null, state: string) => registry.step(ctx, { type: 'compartment.report', compartmentId: 'A01', pickupId, state, now: NOW });
  assert.equal(report('P1', 'occupied').effects, [{ type: 'send', to: 'allocation', message: { type: 'reserve', compartmentId: 'A01', pickupId: 'P1' } }]);
  assert.equal(report(null, 'free').effects, []);
  assert.equal(report('P1', 'open').effects, []);
  assert.is(registry.partitionOf!(ctx, { type: 'compartment.report', compartmentId: 'A01', pickupId: 'P1', state: 'occupied' }), null, 'it concerns the compartment: a quarantined pickup does not stop it');
});

/** P1 in A01 with `status`: its own actor's row. */
function p1(status: Pickup['status'], patch: Partial<Pickup> = {}): Pickup {
  return {
    id: 'P1', reference: 'V-1', documentKind: 'ID_CARD', documents: 1, accessible: false, status,
    phone: '+4915228817386', birthDate: '1980-04-12', oldDocumentNumber: null, pinSerial: 1, pinIssued: true,
    pinQueued: true, compartmentId: 'A01', failedAttempts: 0, claim: null, opId: null,
    createdAt: 0, updatedAt: 0, readyAt: 0, expiresAt: NOW + TEST_POLICY.windowMs, reminderSent: false, endedAt: null, purgeAt: null, personalDataDeleted: false,
    ...patch,
  };
}
/** The same P1 as a row of the registry's table (registered by an earlier version). */
function withP1(status: Pickup['status'], patch: Partial<Pickup> = {}): RegistryCtx {
  const ctx = registry.init(undefined, 'registry');
  return { ...ctx, seq: 1, pickups: { P1: p1(status, patch) }, byReference: { 'V-1': 'P1' } };
}
const alarmText = (effects: Effects) => effects.flatMap((e) => (e.type === 'send' && e.to === 'alarms' ? [e.message as unknown as { code: string; key: string; text: string }] : []));
const check = (reported: string | null) => ({ type: 'occupancy.check' as const, compartmentId: 'A01', reported, pickupId: 'P1', now: NOW });
/** Its own actor asked, and (the same row in its table) the registry: both outcomes, each with whether its state was left as it was. */
const asked = (status: Pickup['status'], patch: Partial<Pickup>, reported: string | null) => {
  const row = p1(status, patch);
  const own = pickup.step(row, check(reported));
  const table = withP1(status, patch);
  const legacy = registry.step(table, check(reported));
  return [
    { who: 'pickup/P1', effects: own.effects as Effects, unchanged: own.ctx === row },
    { who: 'registry', effects: legacy.effects as Effects, unchanged: legacy.ctx === table },
  ];
};

test('pickup: a compartment that holds it while it is recorded in it, or holds nothing while it is being loaded or released, is no mismatch', () => {
  const fine: Array<[Pickup['status'], Partial<Pickup>, string | null, string]> = [
    ['READY', {}, 'P1', 'it holds it'],
    ['LOADING', {}, null, 'staff are putting it in'],
    ['RELEASING', {}, null, 'the citizen is taking it out'],
    ['COLLECTED', { compartmentId: null, endedAt: NOW }, null, 'over: recorded nowhere'],
  ];
  for (const [status, patch, reported, why] of fine) {
    for (const { who, effects } of asked(status, patch, reported)) assert.equal(effects, [], `${who}: ${why}`);
  }
});

test('pickup: a compartment that holds it while it is over or recorded elsewhere, or holds nothing or another while it is recorded in it, calls staff', () => {
  const cases: Array<[Pickup['status'], Partial<Pickup>, string | null, string]> = [
    ['COLLECTED', { endedAt: NOW }, 'P1', 'Compartment A01 reports it holds V-1, the pickups record pickup V-1 (COLLECTED) in A01'],
    ['READY', { compartmentId: 'A02' }, 'P1', 'Compartment A01 reports it holds V-1, the pickups record pickup V-1 (READY) in A02'],
    ['READY', {}, null, 'Compartment A01 reports it holds nothing, the pickups record pickup V-1 (READY) in it'],
    ['LOADING', {}, 'P7', 'Compartment A01 reports it holds P7, the pickups record pickup V-1 (LOADING) in it'],
  ];
  const calledStaff = (who: string, effects: Effects, unchanged: boolean, text: string) => {
    const [alarm] = alarmText(effects);
    assert.ok(alarm?.text.startsWith(text), `${who}: ${alarm?.text} should start with ${text}`);
    assert.equal([alarm!.code, alarm!.key], ['OCCUPANCY_MISMATCH', 'occupancy:A01']);
    assert.ok(effects.some((e) => e.type === 'audit' && e.entry.action === 'occupancy.mismatch'), who);
    assert.ok(unchanged, `${who}: nothing changes, staff look`);
  };
  for (const [status, patch, reported, text] of cases) {
    for (const { who, effects, unchanged } of asked(status, patch, reported)) calledStaff(who, effects, unchanged, text);
  }
  // No pickup P1 any more (archived: its actor stopped, its messages go to the registry, whose table does not have it either).
  const none = registry.init(undefined, 'registry');
  const gone = registry.step(none, check('P1'));
  calledStaff('registry', gone.effects as Effects, gone.ctx === none, 'Compartment A01 reports it holds P1, the pickups record no pickup P1');
  assert.is(registry.partitionOf!(withP1('READY'), { type: 'occupancy.check', compartmentId: 'A01', reported: null, pickupId: 'P1' }), 'P1');
});

test("pickup: at its recovery after a restart, one recorded in a compartment asks it what it holds; one that is over asks nothing", () => {
  const expectation = `compartment/A01 ${JSON.stringify({ type: 'occupancy.expect', pickupId: 'P1', reference: 'V-1', status: 'READY' })}`;
  const asksOwn = (row: Pickup) => sent(pickup.step(row, { type: 'recovered', now: NOW }).effects).filter((m) => m.includes('occupancy.expect'));
  assert.equal(asksOwn(p1('READY')), [expectation]);
  assert.equal(asksOwn(p1('COLLECTED', { compartmentId: null, endedAt: NOW })), []);
  // A row of the registry's table asks the same at the registry's recovery.
  const asks = (ctx: RegistryCtx) => sent(registry.step(ctx, { type: 'recovered', now: NOW }).effects).filter((m) => m.includes('occupancy.expect'));
  assert.equal(asks(withP1('READY')), [expectation]);
  assert.equal(asks(withP1('COLLECTED', { compartmentId: null, endedAt: NOW })), []);
});

test.run();
