import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDomainError } from '../../actors/domain/errors.js';
import { answerBirthDate, authenticate, PHONE, readyPickup, testBox } from '../helpers.js';

// Found by the model test (test/model, MODEL_SEED=772576478): staff asked to retrieve a READY
// pickup, the compartment's latch was released for them, and a citizen who then typed the right
// number, PIN and birth date was told "compartment A01 opens" and could take the document out of
// the door unlatched for staff. The registry had overwritten the retrieval's operation with the
// citizen's, so neither opening was recorded: the pickup stayed READY in a compartment that was
// empty. One unlock per pickup at a time now: a pickup being retrieved opens for no PIN, and a
// retrieval never takes over a citizen's opening.

test('model seed 772576478: a pickup staff is retrieving does not open for the right PIN and birth date', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-RACE-1');
  await t.box.retrievePickup('V-2026-RACE-1', 'staff-anna');
  await t.box.idle();
  assert.is(t.hw.locks.latch(compartmentId), 'released', 'the latch is released for staff');
  assert.is(t.hw.locks.pulses.length, 2, 'load and retrieval pulsed');

  const { sessionId } = await t.box.startSession();
  await t.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
  const afterPin = await t.box.sessionInput(sessionId, { type: 'pin', pin });
  assert.is(afterPin.step, 'done');
  assert.is(afterPin.error, 'PICKUP_BUSY');
  assert.is(afterPin.compartmentId, null, 'the panel names no compartment');
  await t.box.idle();
  assert.is(t.hw.locks.pulses.length, 2, 'no unlock for the citizen');

  // Staff opens the door and takes the document: the retrieval is recorded, the compartment is free.
  assert.ok(t.hw.locks.openDoor(compartmentId));
  await t.box.idle();
  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
  const p = t.box.pickup('V-2026-RACE-1')!;
  assert.is(p.status, 'RETURNED');
  assert.is(p.compartmentId, null);
  assert.is(t.box.compartment(compartmentId)!.state, 'free');
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'OCCUPANCY_MISMATCH'), 'registry and compartment agree');
  await t.box.close();
});

test('a citizen holding the PIN claim before staff retrieves loses it: the birth date then opens nothing', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-RACE-2');
  const sessionId = await authenticate(t, pin);
  assert.is(t.box.session(sessionId)!.step, 'factor');
  await t.box.retrievePickup('V-2026-RACE-2', 'staff-anna');
  await t.box.idle();
  await t.box.sessionInput(sessionId, { type: 'factor', factor: 'birthDate' });
  const answer = await t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: '12.04.1980' });
  assert.is(answer.step, 'done');
  assert.is(answer.outcome, 'failed');
  assert.is(answer.compartmentId, null);
  await t.box.idle();
  assert.is(t.hw.locks.pulses.length, 2, 'load and retrieval only');
  t.hw.locks.openDoor(compartmentId);
  await t.box.idle();
  assert.is(t.box.pickup('V-2026-RACE-2')!.status, 'RETURNED');
  await t.box.close();
});

test('a retrieval asked while the citizen\'s door is unlocking is refused with PICKUP_BUSY; the citizen collects', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-RACE-3');
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId);
  assert.is(t.box.session(sessionId)!.step, 'opening');
  assert.is(t.box.pickup('V-2026-RACE-3')!.status, 'RELEASING');
  try {
    await t.box.retrievePickup('V-2026-RACE-3', 'staff-anna');
    assert.unreachable('the retrieval must be refused');
  } catch (error) {
    assert.ok(isDomainError(error, 'PICKUP_BUSY'), String(error));
  }
  assert.ok(t.hw.locks.openDoor(compartmentId));
  await t.box.idle();
  assert.is(t.box.pickup('V-2026-RACE-3')!.status, 'COLLECTED');
  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
  assert.is(t.box.compartment(compartmentId)!.state, 'free');
  assert.is(t.hw.locks.pulses.length, 2, 'load and collection only');
  await t.box.close();
});

test('a retrieval whose door was never opened gives the pickup back: the same PIN then opens it', async () => {
  const t = await testBox();
  const { pin, compartmentId } = await readyPickup(t, 'V-2026-RACE-4');
  await t.box.retrievePickup('V-2026-RACE-4', 'staff-anna');
  await t.box.advance(t.box.config.doorWindowMs + 1);
  assert.is(t.box.pickup('V-2026-RACE-4')!.opId, null, 'the retrieval is over');
  assert.is(t.box.pickup('V-2026-RACE-4')!.status, 'READY');
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId);
  assert.is(t.box.session(sessionId)!.step, 'opening');
  assert.is(t.box.session(sessionId)!.compartmentId, compartmentId);
  assert.ok(t.hw.locks.openDoor(compartmentId));
  await t.box.idle();
  assert.is(t.box.pickup('V-2026-RACE-4')!.status, 'COLLECTED');
  await t.box.close();
});

test.run();
