import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { createBox, type Box } from '../../src/box.js';
import { demoLayout } from '../../drivers/layout.js';
import { BIRTH, MONDAY_10AM, PHONE, lastPin } from '../helpers.js';
import type { SimulatedHardware } from '../../src/box.js';

// The whole box on the register-level simulation: MCP23017 boards on a simulated I2C bus, a
// physical world behind them, and faults injected on the bus or in the world.

interface I2cBox {
  box: Box;
  hw: SimulatedHardware;
}

async function i2cBox(): Promise<I2cBox> {
  const clock = new SimulatedClock(MONDAY_10AM);
  const box = await createBox({ storage: 'memory:', layout: demoLayout(14), hardware: 'i2c-sim' }, { clock });
  return { box, hw: box.hardware as SimulatedHardware };
}

const world = (t: I2cBox) => t.box.world!;
const bank = (t: I2cBox) => t.box.i2c!;
const boardAddress = (t: I2cBox, compartmentId: string) => {
  const c = t.box.config.layout!.compartments.find((x) => x.id === compartmentId)!;
  const board = t.box.config.layout!.boards.find((b) => b.id === c.board)!;
  return { board, bus: bank(t).buses.get(board.bus)! };
};

/** Registers and loads a pickup through the real driver path; the pulse takes its 300 ms. */
async function load(t: I2cBox, reference: string) {
  await t.box.registerPickup({ reference, documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH });
  const { compartmentId } = await t.box.loadPickup(reference, 'staff-anna');
  await t.box.advance(400);
  assert.ok(world(t).openDoor(compartmentId), 'the latch let go after the pulse');
  await t.box.advance(300);
  world(t).closeDoor(compartmentId);
  await t.box.advance(300);
  return compartmentId;
}

async function authenticateWithBirthDate(t: I2cBox, pin: string) {
  const { sessionId } = await t.box.startSession();
  await t.box.idle();
  for (const input of [
    { type: 'phone', phone: PHONE },
    { type: 'pin', pin },
    // no old document registered: the panel goes straight to the birth date
    { type: 'birthDate', birthDate: BIRTH },
  ] as const) {
    await t.box.sessionInput(sessionId, input);
    await t.box.idle();
  }
  return sessionId;
}

const pulsesOf = (t: I2cBox, id: string) => t.box.i2c!.world.view(id).pulses.length;
const intentsFor = async (t: I2cBox, id: string) => (await t.box.audit()).filter((a) => a.action === 'unlock.intent' && a.subject === id).length;

test('a pickup through the MCP23017 driver: the unlock is two bus writes and the door is seen by polling', async () => {
  const t = await i2cBox();
  const compartmentId = await load(t, 'V-I2C-1');
  assert.is(t.box.pickup('V-I2C-1')!.status, 'READY');
  const { bus } = boardAddress(t, compartmentId);
  bus.resetTranscript();
  const sessionId = await authenticateWithBirthDate(t, lastPin({ box: t.box, hw: t.hw } as never));
  await t.box.advance(2_500); // the lock cools down 2 s after the loading pulse, then pulses
  const writes = bus.lines().filter((l) => l[0] === 'w');
  assert.is(writes.length, 2, 'energise and release');
  assert.ok(world(t).openDoor(compartmentId));
  await t.box.advance(300);
  assert.is(t.box.session(sessionId)!.outcome, 'collected');
  assert.is(pulsesOf(t, compartmentId), await intentsFor(t, compartmentId), 'every pulse has a journaled intent');
  await t.box.close();
});

test('a board unplugged mid-pickup takes only its compartments out of service, with an alarm, until it is back', async () => {
  const t = await i2cBox();
  const compartmentId = await load(t, 'V-I2C-2');
  const pin = lastPin({ box: t.box, hw: t.hw } as never);
  const { board, bus } = boardAddress(t, compartmentId);
  const chip = bank(t).chips.get(board.id)!;
  const { sessionId } = await t.box.startSession();
  await t.box.idle();
  await t.box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
  await t.box.idle();
  await t.box.sessionInput(sessionId, { type: 'pin', pin });
  await t.box.idle();
  bus.detach(board.address); // unplugged while the citizen answers
  await t.box.advance(2_000);
  assert.ok(t.box.alarms(true).some((a) => a.subject === board.id && a.code === 'BOARD_MISSING'));
  const others = t.box.config.layout!.compartments.filter((c) => c.board !== board.id).map((c) => c.id);
  assert.is(t.box.compartment(compartmentId)!.state, 'fault');
  assert.ok(others.every((id) => t.box.compartment(id)!.state !== 'fault'), 'other boards keep working');
  await t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: BIRTH });
  await t.box.advance(500);
  assert.is(t.box.session(sessionId)!.error, 'DEVICE_UNAVAILABLE');
  assert.is(t.box.pickup('V-I2C-2')!.status, 'READY', 'the pickup is not lost');
  assert.is(pulsesOf(t, compartmentId), 1, 'no pulse went out for the unplugged board');
  bus.attach(chip as never);
  await t.box.advance(35_000);
  assert.is(t.box.compartment(compartmentId)!.state, 'occupied', 'back when the board is back');
  assert.not.ok(t.box.alarms(true).some((a) => a.subject === board.id));
  // The refused release used nothing up: the same PIN and birth date open the compartment now.
  const { sessionId: again } = await t.box.startSession();
  await t.box.sessionInput(again, { type: 'phone', phone: PHONE });
  const afterPin = await t.box.sessionInput(again, { type: 'pin', pin });
  if (afterPin.step === 'factor') await t.box.sessionInput(again, { type: 'factor', factor: 'birthDate' });
  assert.is((await t.box.sessionInput(again, { type: 'birthDate', birthDate: BIRTH })).step, 'opening');
  await t.box.advance(500);
  assert.is(pulsesOf(t, compartmentId), 2, 'its lock pulsed for the citizen');
  await t.box.close();
});

test('closing the box while a board is unplugged returns at once: retries and pulses stop waiting on the clock', async () => {
  for (const advanceMs of [0, 1, 2_000]) {
    const t = await i2cBox();
    const { board, bus } = boardAddress(t, 'A01');
    bus.detach(board.address);
    if (advanceMs) await t.box.advance(advanceMs); // 1 ms: a retry's backoff is pending on the simulated clock
    const started = Date.now();
    const closed = await Promise.race([t.box.close().then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5_000))]);
    assert.ok(closed, `close returned (after ${advanceMs} ms unplugged)`);
    assert.ok(Date.now() - started < 2_000, `close took ${Date.now() - started} ms`);
  }
});

test('a short NACK storm is absorbed by retries; a long one fails the board and it recovers', async () => {
  const t = await i2cBox();
  const { board, bus } = boardAddress(t, 'A01');
  bus.injectFault(board.address, 'I2C_NACK', 2);
  await t.box.advance(1_000);
  assert.is(t.box.compartment('A01')!.state, 'free', 'two NACKs are retried away');
  bus.injectFault(board.address, 'I2C_NACK');
  await t.box.advance(2_000);
  assert.is(t.box.compartment('A01')!.fault, 'I2C_NACK');
  bus.clearFaults();
  await t.box.advance(35_000);
  assert.is(t.box.compartment('A01')!.state, 'free');
  await t.box.close();
});

test('a door switch stuck open looks like a forced door: alarm, fault, and no unlock', async () => {
  const t = await i2cBox();
  t.box.i2c!.world.stickSwitch('A03', 'open');
  await t.box.advance(1_000);
  assert.ok(t.box.alarms(true).some((a) => a.code === 'DOOR_FORCED' && a.subject === 'A03'));
  assert.is(t.box.compartment('A03')!.state, 'fault');
  assert.is(pulsesOf(t, 'A03'), 0);
  await t.box.close();
});

test('a forced door raises DOOR_FORCED and the compartment is not assigned any more', async () => {
  const t = await i2cBox();
  world(t).forceDoor('A01');
  await t.box.advance(500);
  assert.ok(t.box.alarms(true).some((a) => a.code === 'DOOR_FORCED' && a.subject === 'A01'));
  await t.box.registerPickup({ reference: 'V-I2C-3', documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH });
  const { compartmentId } = await t.box.loadPickup('V-I2C-3', 'staff-anna');
  assert.is.not(compartmentId, 'A01');
  assert.is(pulsesOf(t, 'A01'), 0, 'no unlock without a cause');
  await t.box.close();
});

test('a jammed lock: pulsed twice and the door never moved, the compartment is reported jammed', async () => {
  const t = await i2cBox();
  world(t).jamLock('A01');
  await t.box.registerPickup({ reference: 'V-I2C-4', documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH });
  let { compartmentId } = await t.box.loadPickup('V-I2C-4', 'staff-anna');
  assert.is(compartmentId, 'A01');
  await t.box.advance(400);
  assert.not.ok(world(t).openDoor('A01'), 'the bolt did not move');
  await t.box.advance(31_000);
  ({ compartmentId } = await t.box.loadPickup('V-I2C-4', 'staff-anna'));
  assert.is(compartmentId, 'A01');
  await t.box.advance(31_500);
  assert.is(t.box.compartment('A01')!.fault, 'LOCK_JAMMED');
  assert.ok(t.box.alarms(true).some((a) => a.code === 'LOCK_JAMMED'));
  assert.is(pulsesOf(t, 'A01'), 2);
  assert.is(await intentsFor(t, 'A01'), 2, 'each pulse journaled with its cause');
  const { compartmentId: next } = await t.box.loadPickup('V-I2C-4', 'staff-anna');
  assert.is.not(next, 'A01', 'a jammed compartment is not assigned');
  await t.box.close();
});

test.run();
