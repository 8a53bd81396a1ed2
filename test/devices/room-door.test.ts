import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Box } from '../../src/box.js';
import { BIRTH, PHONE, wrongPin } from '../helpers.js';
import { assertLayoutRefused, MONDAY_8PM, readyPickupOnPins as ready, refusal, roomLayout as layout, simulatedBox } from './room-door-rig.js';

// The after-hours room (as in Trier): the box inside runs 24/7, the room door follows the office
// hours, and after hours number and PIN at the outside panel open it for a few seconds.

const roomBox = (at = MONDAY_8PM): Promise<Box> => simulatedBox(layout(), at);

test('after hours: a wrong PIN counts, number and PIN open the room door for openMs, the PIN still opens the compartment inside', async () => {
  const box = await roomBox();
  try {
    const door = box.roomDoorMechanism!;
    const { pin, compartmentId } = await ready(box, 'ROOM-1');
    assert.not.ok(door.push(), 'locked after hours');
    assert.is(await refusal(box.enterRoom('door', PHONE, wrongPin(pin))), 'AUTH_FAILED');
    // The auth actor answers at once; the registry counts the failure on the pickup right after.
    await box.idle();
    assert.is(box.pickup('ROOM-1')!.failedAttempts, 1, 'the door attempt counts toward the pickup\'s limit');
    assert.is(await refusal(box.enterRoom('1', PHONE, pin)), 'NOT_A_DOOR_PANEL', 'only the outside panel opens the door');

    assert.equal(await box.enterRoom('door', PHONE, pin), { opened: true, byHours: false });
    await box.advance(100);
    assert.ok(door.push(), 'the strike let the door open');
    await box.advance(300);
    door.close();
    await box.advance(5_000);
    assert.not.ok(door.unlocked, 'locked again after openMs');
    assert.equal(box.alarms(true), []);
    const audit = (await box.audit()).map((a) => a.action);
    for (const action of ['auth.doorPinAccepted', 'roomDoor.opened', 'roomDoor.doorOpened', 'roomDoor.doorClosed']) assert.ok(audit.includes(action), action);

    // Inside: the normal pickup, with the same PIN.
    const { sessionId } = await box.startSession();
    await box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
    await box.sessionInput(sessionId, { type: 'pin', pin });
    const opening = await box.sessionInput(sessionId, { type: 'birthDate', birthDate: BIRTH });
    assert.is(opening.step, 'opening');
    await box.advance(2_500);
    assert.ok(box.simulation.openDoor(compartmentId));
    await box.advance(300);
    assert.is(box.session(sessionId)!.outcome, 'collected');
  } finally {
    await box.close();
  }
});

test('after hours: the door held open raises ROOM_DOOR_HELD_OPEN, closing clears it; forced open raises ROOM_DOOR_FORCED', async () => {
  const box = await roomBox();
  try {
    const door = box.roomDoorMechanism!;
    const { pin } = await ready(box, 'ROOM-2');
    await box.enterRoom('door', PHONE, pin);
    await box.advance(100);
    assert.ok(door.push());
    await box.advance(30_500);
    assert.equal(box.alarms(true).map((a) => a.code), ['ROOM_DOOR_HELD_OPEN']);
    door.close();
    await box.advance(300);
    assert.equal(box.alarms(true), []);
    door.force();
    await box.advance(300);
    assert.equal(box.alarms(true).map((a) => a.code), ['ROOM_DOOR_FORCED']);
  } finally {
    await box.close();
  }
});

test('during the office hours the door follows the hours table: unlocked, no PIN asked, no alarm when it stands open', async () => {
  // Monday 15:58 in Düsseldorf; the office closes at 16:00
  const box = await roomBox(Date.UTC(2026, 10, 23, 14, 58, 0));
  try {
    const door = box.roomDoorMechanism!;
    await box.advance(100);
    assert.ok(door.unlocked);
    assert.equal(await box.enterRoom('door', PHONE, '000000'), { opened: true, byHours: true });
    assert.ok(door.push());
    await box.advance(60_000);
    assert.equal(box.alarms(true), []);
    door.close();
    assert.ok(door.unlocked, '15:59: still open');
    await box.advance(61_000);
    assert.not.ok(door.unlocked, '16:00: the strike follows the table');
    assert.is(await refusal(box.enterRoom('door', PHONE, '000000')), 'AUTH_FAILED', 'now number and PIN are checked');
  } finally {
    await box.close();
  }
});

test('a door still standing open at closing time is held open from then: ROOM_DOOR_HELD_OPEN after heldOpenMs, not FORCED', async () => {
  const box = await roomBox(Date.UTC(2026, 10, 23, 14, 59, 0)); // Monday 15:59, closes 16:00
  try {
    const door = box.roomDoorMechanism!;
    await box.advance(100);
    assert.ok(door.push());
    await box.advance(61_000); // 16:00:01: the strike locks, the door still stands open
    assert.not.ok(door.unlocked);
    assert.equal(box.alarms(true), []);
    await box.advance(28_000); // 16:00:29.1
    assert.equal(box.alarms(true), [], 'not yet 30 s after closing');
    await box.advance(1_500); // 16:00:30.6
    assert.equal(box.alarms(true).map((a) => a.code), ['ROOM_DOOR_HELD_OPEN']);
    door.close();
    await box.advance(300);
    assert.equal(box.alarms(true), []);
  } finally {
    await box.close();
  }
});

for (const [name, over, code, message] of [
  ['contact on the output-only GPA7', { contactPin: { board: 'B1', pin: 7 }, lockPin: { board: 'B1', pin: 6 } }, 'INPUT_ON_OUTPUT_ONLY_PIN', /contactPin is GPA7/],
  ['strike on a lock pin', { lockPin: { board: 'B1', pin: 0 } }, 'PIN_CONFLICT', /roomDoor: lockPin GPA0 of board B1 is already the lock pin of A01/],
  ['open for minutes', { openMs: 120_000 }, 'ROOM_DOOR_INVALID', /openMs 120000 is over a minute/],
] as const) {
  test(`layout refused: ${name} (${code})`, () => assertLayoutRefused(layout(over), code, message));
}

test.run();
