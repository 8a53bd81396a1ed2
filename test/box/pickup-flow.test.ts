import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { answerBirthDate, authenticate, BIRTH, lastPin, oldIdCard, passDoor, PHONE, readyPickup, register, testBox, wrongPin } from '../helpers.js';
import { oldDocumentTag } from '../../src/crypto.js';
import type { AuthCtx } from '../../actors/auth.js';
import { ALLOCATION, AUTH, pickupAddress } from '../../actors/messages.js';
import type { AllocationCtx } from '../../actors/allocation.js';
import { committedPickups } from '../support/committed.js';

test('loading a pickup makes it READY and sends a 6-digit PIN by SMS, stored only as a hash', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0001');
  const p = t.box.pickup('V-2026-0001')!;
  assert.is(p.status, 'READY');
  assert.is(p.compartmentId, compartmentId);
  assert.match(pin, /^\d{6}$/);
  const stored = committedPickups(t.box)[p.id]!;
  assert.is(stored.pinIssued, true);
  assert.not.ok('pinHash' in stored, 'the registry holds no PIN hash');
  const credential = t.box.supervisor.view<AuthCtx>(AUTH)!.ctx.credentials[p.id]!;
  assert.is(credential.serial, stored.pinSerial);
  assert.match(credential.pinHash, /^[0-9a-f]{64}$/);
  assert.not.ok(credential.pinHash.includes(pin), 'the PIN itself is not stored');
  assert.not.ok(JSON.stringify(t.box.supervisor.view<AuthCtx>(AUTH)!.ctx).includes(PHONE), 'the auth actor holds no number');
  assert.not.ok('pinHash' in p, 'readers never get a hash')
  assert.is(t.box.compartment(compartmentId)!.state, 'occupied');
  const sms = t.hw.sms.to(PHONE)[0]!;
  assert.match(sms.text, /Abholung bis 03\.12\.2026/);
  await t.box.close();
});

test('a pickup with old ID: the card is checked, shredded, the destruction audited, the door opens', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0002');
  const sessionId = await authenticate(t, pin);
  assert.is(t.box.session(sessionId)!.step, 'factor');
  await t.box.sessionInput(sessionId, { type: 'factor', factor: 'oldId' });
  await t.box.idle();
  assert.ok(t.hw.reader.insert(oldIdCard()));
  await t.box.idle();
  assert.is(t.hw.shredder.shredded.length, 0, 'the old card waits in the reader until the door opens');
  assert.is(t.box.session(sessionId)!.step, 'opening');
  assert.is(t.box.session(sessionId)!.compartmentId, compartmentId);
  assert.ok(t.hw.locks.openDoor(compartmentId), 'the latch was released');
  await t.box.idle();
  assert.is(t.hw.shredder.shredded.length, 1, 'the old card was shredded once the door opened');
  assert.is(t.box.session(sessionId)!.outcome, 'collected');
  assert.is(t.box.pickup('V-2026-0002')!.status, 'COLLECTED');
  const audit = await t.box.audit();
  const destroyed = audit.find((a) => a.action === 'oldId.destroyed');
  assert.ok(destroyed);
  assert.is(destroyed!.subject, oldDocumentTag(t.box.config.pinKey, 'L01X00T47'), 'a keyed hash of the number, not the number');
  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
  assert.is(t.box.compartment(compartmentId)!.state, 'free');
  await t.box.close();
});

test('a pickup with the birth date opens the compartment', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0003');
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId, '12.04.1980');
  assert.is(t.box.session(sessionId)!.step, 'opening');
  assert.is(t.hw.locks.latch(compartmentId), 'released');
  t.hw.locks.openDoor(compartmentId);
  await t.box.idle();
  assert.is(t.box.pickup('V-2026-0003')!.status, 'COLLECTED');
  await t.box.close();
});

test('a wrong birth date does not open; the session asks again', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0004');
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId, '13.04.1980');
  const s = t.box.session(sessionId)!;
  assert.is(s.step, 'birthDate');
  assert.is(s.error, 'BIRTH_DATE_MISMATCH');
  assert.is(t.hw.locks.latch(compartmentId), 'engaged');
  assert.is(t.box.pickup('V-2026-0004')!.failedAttempts, 1);
  await t.box.close();
});

test('a wrong old ID is given back and the birth date is the fallback', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0005');
  const sessionId = await authenticate(t, pin);
  await t.box.sessionInput(sessionId, { type: 'factor', factor: 'oldId' });
  await t.box.idle();
  t.hw.reader.insert(oldIdCard('T22000129'));
  await t.box.idle();
  assert.is(t.hw.reader.ejected.length, 1, 'the card came back out');
  assert.is(t.hw.shredder.shredded.length, 0, 'nothing was shredded');
  assert.is(t.box.session(sessionId)!.step, 'birthDate');
  assert.is(t.box.session(sessionId)!.error, 'OLD_ID_MISMATCH');
  await t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: BIRTH });
  await t.box.idle();
  t.hw.locks.openDoor(compartmentId);
  await t.box.idle();
  assert.is(t.box.pickup('V-2026-0005')!.status, 'COLLECTED');
  await t.box.close();
});

test('a jammed shredder closes the card slot and sessions fall back to the birth date', async () => {
  const t = await testBox();
  const first = await readyPickup(t, 'V-2026-0006');
  const second = await readyPickup(t, 'V-2026-0007', { phone: '+4915228817387' });
  // First citizen: the shredder jams on their card.
  t.hw.shredder.jamNext = true;
  let sessionId = await authenticate(t, first.pin);
  await t.box.sessionInput(sessionId, { type: 'factor', factor: 'oldId' });
  await t.box.idle();
  t.hw.reader.insert(oldIdCard());
  await t.box.idle();
  t.hw.locks.openDoor(first.compartmentId);
  await t.box.idle();
  assert.is(t.box.devices().shredder.state, 'jammed');
  assert.ok(t.box.alarms(true).some((a) => a.code === 'SHREDDER_JAM'));
  assert.ok((await t.box.audit()).some((a) => a.action === 'oldId.retained' && a.subject === oldDocumentTag(t.box.config.pinKey, 'L01X00T47')));
  assert.is(t.box.pickup('V-2026-0006')!.status, 'COLLECTED', 'the card was verified and is in custody');
  await t.box.advance(6_000);
  // Second citizen: no card slot offered any more.
  sessionId = await authenticate(t, second.pin, '+4915228817387');
  const s = t.box.session(sessionId)!;
  assert.is(s.step, 'birthDate');
  assert.is(s.oldIdPossible, false);
  assert.is(t.box.devices().reader.available, false);
  assert.not.ok(t.hw.reader.accepting);
  await t.box.close();
});

test('a session without input for 60 s times out and holds nothing', async () => {
  const t = await testBox();
  const { pin } = await readyPickup(t, 'V-2026-0008');
  const sessionId = await authenticate(t, pin);
  await t.box.advance(59_000);
  assert.is(t.box.session(sessionId)!.step, 'factor');
  await t.box.advance(1_000);
  assert.is(t.box.session(sessionId)!.outcome, 'timeout');
  assert.is(t.box.pickup('V-2026-0008')!.claim, null);
  await t.box.advance(5_000);
  assert.is(t.box.session(sessionId), undefined, 'the session is gone after its final screen');
  const next = await t.box.startSession();
  assert.ok(next.sessionId, 'the panel takes the next citizen');
  await t.box.close();
});

test('a door not opened within 30 s locks again, the pickup stays READY and the session says so', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0009');
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId, BIRTH);
  await t.box.advance(30_300);
  assert.is(t.box.session(sessionId)!.outcome, 'doorNotOpened');
  assert.is(t.box.pickup('V-2026-0009')!.status, 'READY');
  assert.is(t.box.compartment(compartmentId)!.state, 'occupied');
  assert.not.ok(t.hw.locks.openDoor(compartmentId), 'the latch holds again');
  await t.box.close();
});

test('a door left open over 60 s raises an alarm, closing it clears the alarm', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0010');
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId, BIRTH);
  t.hw.locks.openDoor(compartmentId);
  await t.box.advance(59_000);
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'DOOR_LEFT_OPEN'));
  await t.box.advance(1_000);
  assert.ok(t.box.alarms(true).some((a) => a.code === 'DOOR_LEFT_OPEN' && a.subject === compartmentId));
  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'DOOR_LEFT_OPEN'));
  await t.box.close();
});

test('two sessions racing for one pickup: exactly one opens the compartment', async () => {
  const t = await testBox({ kiosks: ['1', '2'] });
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0011');
  const a = (await t.box.startSession('1')).sessionId;
  const b = (await t.box.startSession('2')).sessionId;
  await t.box.idle();
  await Promise.all([a, b].map((s) => t.box.sessionInput(s, { type: 'phone', phone: PHONE })));
  const answers = await Promise.all([a, b].map((s) => t.box.sessionInput(s, { type: 'pin', pin })));
  // The registry checks one PIN at a time: the first holds the pickup, the second is refused.
  assert.equal(answers.map((v) => v.step).sort(), ['done', 'factor'], 'each panel is told its own outcome');
  const [winner, loser] = answers[0]!.step === 'factor' ? [a, b] : [b, a];
  assert.is(t.box.session(winner)!.step, 'factor');
  assert.is(t.box.session(loser)!.step, 'done');
  assert.is(t.box.session(loser)!.error, 'PICKUP_BUSY');
  await answerBirthDate(t, winner);
  assert.is(t.box.session(winner)!.step, 'opening', 'the winner opens');
  assert.is(t.hw.locks.pulses.filter((c) => c === compartmentId).length, 2, 'one pulse to load, one to collect');
  await t.box.close();
});

test('an unknown number and a wrong PIN get the same answer', async () => {
  const t = await testBox();
  const { pin } = await readyPickup(t, 'V-2026-0012');
  const wrong = await authenticate(t, wrongPin(pin));
  const wrongView = t.box.session(wrong)!;
  await t.box.sessionInput(wrong, { type: 'cancel' });
  await t.box.advance(6_000);
  const unknown = await authenticate(t, pin, '+4915228817399');
  const unknownView = t.box.session(unknown)!;
  // Each expires a minute after its own last input; the clock moved between them.
  assert.is(unknownView.expiresAt! - wrongView.expiresAt!, 6_000);
  assert.equal({ ...wrongView, id: '', expiresAt: 0 }, { ...unknownView, id: '', expiresAt: 0 });
  assert.is(unknownView.error, 'AUTH_FAILED');
  await t.box.close();
});

test('the box starts no session outside the opening hours and says when it opens', async () => {
  const sunday = Date.UTC(2026, 10, 22, 11, 0, 0);
  const { SimulatedClock } = await import('../../actors/runtime/clock.js');
  const t = await testBox({}, { clock: new SimulatedClock(sunday) });
  try {
    await t.box.startSession();
    assert.unreachable('a session started on a Sunday');
  } catch (error) {
    assert.is((error as { code: string }).code, 'BOX_CLOSED');
    assert.is((error as { details: { nextOpening: number } }).details.nextOpening, Date.UTC(2026, 10, 23, 6, 30, 0));
  }
  assert.is(t.box.openNow(), false);
  await t.box.close();
});

test('in 24/7 mode the box serves on a Sunday night', async () => {
  const { SimulatedClock } = await import('../../actors/runtime/clock.js');
  const t = await testBox({ hoursPreset: 'always' }, { clock: new SimulatedClock(Date.UTC(2026, 10, 22, 22, 0, 0)) });
  const { sessionId } = await t.box.startSession();
  assert.ok(sessionId);
  await t.box.close();
});

test('the reminder SMS goes out 2 days before expiry; after the window the pickup expires and staff is told', async () => {
  const t = await testBox();
  await readyPickup(t, 'V-2026-0013');
  await t.box.advance(8 * 86_400_000 - 1_000);
  assert.is(t.hw.sms.to(PHONE).length, 1);
  await t.box.advance(1_000);
  assert.is(t.hw.sms.to(PHONE).length, 2);
  assert.match(t.hw.sms.to(PHONE)[1]!.text, /Erinnerung/);
  await t.box.advance(2 * 86_400_000);
  const p = t.box.pickup('V-2026-0013')!;
  assert.is(p.status, 'EXPIRED');
  assert.match(t.hw.sms.to(PHONE)[2]!.text, /zurück an den Schalter/);
  assert.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_EXPIRED' && a.subject === p.compartmentId));
  const { compartmentId } = await t.box.retrievePickup('V-2026-0013', 'staff-ben');
  await t.box.idle();
  await passDoor(t, compartmentId);
  assert.is(t.box.pickup('V-2026-0013')!.status, 'RETURNED');
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'PICKUP_EXPIRED'), 'the alarm ended with the retrieval');
  assert.is(t.box.compartment(compartmentId)!.state, 'free');
  await t.box.close();
});

test('a PIN is single use: after collection it opens nothing', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0014');
  let s = await authenticate(t, pin);
  await answerBirthDate(t, s, BIRTH);
  t.hw.locks.openDoor(compartmentId);
  await t.box.idle();
  t.hw.locks.closeDoor(compartmentId);
  await t.box.advance(6_000);
  s = await authenticate(t, pin);
  assert.is(t.box.session(s)!.error, 'AUTH_FAILED');
  await t.box.close();
});

test('reissuing a PIN kills the old one', async () => {
  // PINs from a fixed source, so the old and the new one certainly differ.
  const pins = ['111111', '222222'];
  const t = await testBox({}, { generatePin: () => pins.shift()! });
  const { pin } = await readyPickup(t, 'V-2026-0015');
  assert.is(pin, '111111');
  await t.box.reissuePin('V-2026-0015', 'staff-anna');
  await t.box.idle();
  const fresh = lastPin(t);
  assert.is(fresh, '222222', 'the new PIN went out by SMS');
  const s = await authenticate(t, pin);
  assert.is(t.box.session(s)!.error, 'AUTH_FAILED', 'the old PIN is dead');
  await t.box.sessionInput(s, { type: 'cancel' });
  await t.box.advance(6_000);
  const s2 = await authenticate(t, fresh);
  assert.is(t.box.session(s2)!.step, 'factor', 'the new PIN is accepted');
  await t.box.close();
});

test('a pickup whose window ends while its door is unlocking expires once the latch re-engages', async () => {
  const t = await testBox({ hoursPreset: 'always' });
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0016');
  await t.box.advance(10 * 86_400_000 - 20_000);
  const s = await authenticate(t, pin);
  await answerBirthDate(t, s);
  assert.is(t.box.pickup('V-2026-0016')!.status, 'RELEASING');
  await t.box.advance(31_000);
  assert.is(t.box.session(s)?.outcome ?? 'gone', 'doorNotOpened');
  assert.is(t.box.pickup('V-2026-0016')!.status, 'EXPIRED');
  assert.not.ok(t.hw.locks.openDoor(compartmentId));
  await t.box.close();
});

test('a snapshot shows the whole box at once, without personal data', async () => {
  const t = await testBox();
  const { compartmentId } = await readyPickup(t, 'V-2026-0017');
  const snap = t.box.snapshot();
  assert.is(snap.compartments.length, 24);
  assert.is(snap.compartments.find((c) => c.id === compartmentId)!.state, 'occupied');
  assert.is(snap.pickups.find((p) => p.reference === 'V-2026-0017')!.status, 'READY');
  assert.not.ok(JSON.stringify(snap).includes(PHONE), 'no phone number');
  assert.not.ok(JSON.stringify(snap).includes('1980-04-12'), 'no birth date');
  assert.is(snap.box.openNow, true);
  await t.box.close();
});

test('loading picks the smallest free compartment that fits, and an accessible one when flagged', async () => {
  const t = await testBox();
  // demoCompartments: columns 1–6 S, 7–9 M, 10–11 L, 12 XL; rows B and C accessible.
  assert.is((await register(t.box, 'V-SIZE-1'), await t.box.loadPickup('V-SIZE-1', 'anna')).compartmentId, 'A01');
  assert.is((await register(t.box, 'V-SIZE-2', { documents: 2 }), await t.box.loadPickup('V-SIZE-2', 'anna')).compartmentId, 'A07');
  assert.is((await register(t.box, 'V-SIZE-3', { documents: 5 }), await t.box.loadPickup('V-SIZE-3', 'anna')).compartmentId, 'A10');
  assert.is((await register(t.box, 'V-SIZE-4', { accessible: true }), await t.box.loadPickup('V-SIZE-4', 'anna')).compartmentId, 'B01');
  assert.ok(t.box.config.compartments.find((c) => c.id === 'B01')!.accessible);
  await t.box.close();
});

test('cancelling a pickup that lies in the box asks staff to take it out; retrieving it frees the compartment', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-0018');
  const cancelled = await t.box.cancelPickup('V-2026-0018', 'integration');
  assert.equal(cancelled, { reference: 'V-2026-0018', status: 'CANCELLED', compartmentId });
  await t.box.idle();
  assert.ok(t.box.alarms(true).some((a) => a.code === 'RETRIEVAL_NEEDED' && a.subject === compartmentId));
  const s = await authenticate(t, pin);
  assert.is(t.box.session(s)!.error, 'AUTH_FAILED', 'its PIN died with the cancellation');
  await t.box.sessionInput(s, { type: 'cancel' });
  await t.box.advance(6_000);
  await t.box.retrievePickup('V-2026-0018', 'staff-ben');
  await t.box.idle();
  assert.ok(t.hw.locks.openDoor(compartmentId));
  await t.box.idle();
  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
  assert.is(t.box.compartment(compartmentId)!.state, 'free');
  assert.is(t.box.pickup('V-2026-0018')!.status, 'CANCELLED');
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'RETRIEVAL_NEEDED'), 'the staff task ended with the retrieval');
  assert.ok(t.box.pickup('V-2026-0018')!.purgeAt, 'its personal data is scheduled for deletion');
  await t.box.close();
});

test('twenty inputs at once to one session get truthful answers: one is checked, the others are told the step is wrong', async () => {
  const t = await testBox();
  const { pin } = await readyPickup(t, 'V-2026-0099');
  const { sessionId } = await t.box.startSession();
  await t.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
  const settled = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => t.box.sessionInput(sessionId, { type: 'pin', pin: i === 0 ? pin : wrongPin(pin) })));
  const answered = settled.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const refused = settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as { code: string }).code);
  assert.equal(answered.map((v) => v.step), ['factor'], 'only the first PIN was checked, and it was right');
  assert.equal(refused, Array.from({ length: 19 }, () => 'SESSION_WRONG_STEP'), 'nobody is told AUTH_FAILED for a PIN that was never checked');
  assert.is(t.box.pickup('V-2026-0099')!.failedAttempts, 0);
  await t.box.close();
});

test('an input to an ended or unknown session is refused with SESSION_NOT_FOUND', async () => {
  const t = await testBox();
  const { sessionId } = await t.box.startSession();
  await t.box.sessionInput(sessionId, { type: 'cancel' });
  for (const id of [sessionId, 'nobody-1']) {
    try {
      await t.box.sessionInput(id, { type: 'phone', phone: PHONE });
      assert.unreachable('an ended session took an input');
    } catch (error) {
      assert.is((error as { code: string }).code, 'SESSION_NOT_FOUND');
    }
  }
  await t.box.close();
});


test("a door closed after its pickup was archived (its actor gone) still frees the compartment: the registry answers for it", async () => {
  const t = await testBox({ auditPeriodDays: 1 });
  const { pin, compartmentId } = await readyPickup(t, 'V-ARCH-1');
  const id = t.box.pickup('V-ARCH-1')!.id;
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId);
  await t.box.idle();
  assert.ok(t.hw.locks.openDoor(compartmentId), 'the citizen opens the door');
  await t.box.idle();
  assert.is(t.box.pickup('V-ARCH-1')!.status, 'COLLECTED');
  // The door stays open past the audit period: the pickup is purged and archived, its actor stops.
  await t.box.advance(2 * 86_400_000);
  assert.is(t.box.pickup('V-ARCH-1'), undefined, 'archived');
  assert.not.ok(t.box.supervisor.has(pickupAddress(id)), 'its actor is gone');
  assert.is(t.box.supervisor.view<AllocationCtx>(ALLOCATION)!.ctx.slots[compartmentId]!.pickupId, id, 'still given while the door is open');
  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
  assert.is(t.box.supervisor.view<AllocationCtx>(ALLOCATION)!.ctx.slots[compartmentId]!.pickupId, null, 'freed once the door closed');
  await t.box.close();
});

test.run();
