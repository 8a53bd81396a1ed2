import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pickupAddress } from '../../actors/messages.js';
import type { Pickup } from '../../actors/pickup.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { healthDocument } from '../../src/health.js';
import { rejectionCode } from '../domain/assert-code.js';
import { BIRTH, MONDAY_10AM, PHONE, testBox } from '../helpers.js';

// A pickup actor (docs/pickup-actors.md), here spawned by hand with a damaged row: one that fails for good is one pickup refused on its own, as a pickup quarantined in the
// registry is. Staff get PICKUP_FAILED (not ACTOR_FAILED) naming its reference and compartment,
// health is degraded (not failed), its messages are refused PICKUP_FAILED, and lifting the
// quarantine revives it.

const DAY = 86_400_000;

/** A READY pickup in A01, claimed by session s1, whose stored birth date is damaged (a number): checking it crashes. */
const damaged = (): Pickup => ({
  id: 'P77', reference: 'V-ACTOR-77', documentKind: 'ID_CARD', documents: 1, accessible: false, status: 'READY',
  phone: PHONE, birthDate: 42 as unknown as string, oldDocumentNumber: null, pinSerial: 1, pinIssued: true, pinQueued: true,
  compartmentId: 'A01', failedAttempts: 0, claim: { sessionId: 's1', until: MONDAY_10AM + DAY, factor: null }, opId: null,
  createdAt: MONDAY_10AM, updatedAt: MONDAY_10AM, readyAt: MONDAY_10AM, expiresAt: MONDAY_10AM + 3 * DAY, reminderSent: true,
  endedAt: null, purgeAt: null, personalDataDeleted: false,
});

test('a pickup actor that keeps crashing is one pickup refused on its own: PICKUP_FAILED to staff, health degraded, its messages refused, revived by lifting', async () => {
  const t = await testBox({}, { clock: new SimulatedClock(MONDAY_10AM) });
  try {
    const address = pickupAddress('P77');
    await t.box.supervisor.spawn(address, 'pickup', { row: damaged() });
    await t.box.idle();
    for (let i = 0; i < 6; i++) {
      t.box.inject(address, { type: 'auth.birthDate', sessionId: 's1', birthDate: BIRTH, pickupId: 'P77' });
      await t.box.idle();
    }
    assert.is(t.box.supervisor.view(address)!.status, 'failed');
    const alarms = t.box.alarms(true);
    const alarm = alarms.find((a) => a.code === 'PICKUP_FAILED');
    assert.ok(alarm, 'PICKUP_FAILED raised');
    assert.match(alarm.text, 'Pickup V-ACTOR-77 kept crashing its own actor');
    assert.match(alarm.text, 'retrieve the document from compartment A01');
    assert.not.ok(alarms.some((a) => a.code === 'ACTOR_FAILED'), 'not an actor of the box failing: one pickup');
    assert.equal(t.box.quarantinedPickups().map((q) => [q.pickupId, q.reference, q.compartmentId]), [['P77', 'V-ACTOR-77', 'A01']]);
    assert.equal(t.box.failures(), []);
    const health = await healthDocument(t.box);
    assert.is(health.checks['pickups:quarantined']![0]!.status, 'warn');
    assert.is(health.checks['actors:failed']![0]!.status, 'pass');
    assert.is(await rejectionCode(t.box.supervisor.ask(address, { type: 'pickup.retrieve', reference: 'V-ACTOR-77', by: 'anna' })), 'PICKUP_FAILED');

    // After repair, staff lift the quarantine: the actor is back, the alarm cleared.
    await t.box.liftPickupQuarantine('V-ACTOR-77', 'anna');
    await t.box.idle();
    assert.is(t.box.supervisor.view(address)!.status, 'active');
    assert.not.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_FAILED'), 'cleared');
    assert.equal(t.box.quarantinedPickups(), []);
    assert.is(await rejectionCode(t.box.liftPickupQuarantine('V-ACTOR-77', 'anna')), 'PICKUP_NOT_FOUND', 'nothing left to lift (and the registry does not know a pickup spawned by hand)');

    // Failed again, and revived as an actor by staff (reviveActor): its PICKUP_FAILED alarm clears too.
    for (let i = 0; i < 6; i++) {
      t.box.inject(address, { type: 'auth.birthDate', sessionId: 's1', birthDate: BIRTH, pickupId: 'P77' });
      await t.box.idle();
    }
    assert.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_FAILED'));
    await t.box.reviveActor(address, 'anna');
    await t.box.idle();
    assert.not.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_FAILED'), 'cleared by reviveActor too');
  } finally {
    await t.box.close();
  }
});

test.run();
