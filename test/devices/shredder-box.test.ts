import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { ExpanderShredder } from '../../drivers/i2c/shredder.js';
import { demoLayout } from '../../drivers/layout.js';
import { createBox, type Box, type SimulatedHardware } from '../../src/box.js';
import { BIRTH, MONDAY_10AM, OLD_ID, PHONE, lastPin, oldIdCard } from '../helpers.js';
import { oldDocumentTag } from '../../src/crypto.js';

// A whole box on the register-level simulation with the shredder on a second MCP23017: the old ID
// card goes from the reader through the flap into the cutters; a jam retains it and raises the alarm.

const pin = (n: number) => ({ board: 'B2', pin: n });
function layout() {
  const l = demoLayout(7);
  return {
    boards: [...l.boards, { id: 'B2', kind: 'mcp23017', bus: 1, address: 0x21 }],
    compartments: l.compartments,
    shredder: { motorPin: pin(0), reversePin: pin(1), flapPin: pin(2), jamPin: pin(8), binFullPin: pin(9) },
  };
}

async function shredderBox(): Promise<Box> {
  return createBox({ storage: 'memory:', layout: layout(), hardware: 'i2c-sim' }, { clock: new SimulatedClock(MONDAY_10AM) });
}

async function readyWithOldId(box: Box, reference: string): Promise<{ pin: string; compartmentId: string }> {
  await box.registerPickup({ reference, documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH, oldDocumentNumber: OLD_ID });
  const { compartmentId } = await box.loadPickup(reference, 'staff-anna');
  await box.advance(400);
  assert.ok(box.world!.openDoor(compartmentId));
  await box.advance(300);
  box.world!.closeDoor(compartmentId);
  await box.advance(300);
  return { pin: lastPin({ box, hw: box.hardware as SimulatedHardware, clock: box.clock as SimulatedClock }), compartmentId };
}

async function offerCard(box: Box, pin: string): Promise<string> {
  const { sessionId } = await box.startSession();
  await box.sessionInput(sessionId, { type: 'phone', phone: PHONE });
  await box.sessionInput(sessionId, { type: 'pin', pin });
  await box.sessionInput(sessionId, { type: 'factor', factor: 'oldId' });
  await box.idle();
  assert.ok(box.simulation.insertCard(oldIdCard()), 'the slot takes the card');
  return sessionId;
}

test('the old ID card drops through the flap into the cutters on the expander pins; its destruction is audited', async () => {
  const box = await shredderBox();
  try {
    assert.instance(box.hardware.shredder, ExpanderShredder);
    const { pin: code, compartmentId } = await readyWithOldId(box, 'SHR-1');
    const sessionId = await offerCard(box, code);
    await box.advance(2_500);
    const mechanism = box.shredderMechanism!;
    assert.equal(mechanism.shredded, [], 'the checked card waits in the reader until the door opens');
    assert.ok(box.world!.openDoor(compartmentId));
    await box.advance(300);
    assert.is(box.session(sessionId)!.outcome, 'collected');
    await box.advance(5_700);
    assert.equal(mechanism.shredded, [oldIdCard()]);
    assert.is(mechanism.flapOpenings, 1);
    assert.equal(mechanism.motorRuns.map((r) => [r.direction, r.end! - r.start]), [['forward', 4000]]);
    assert.equal((await box.audit()).filter((a) => a.action === 'oldId.destroyed').map((a) => a.subject), [oldDocumentTag(box.config.pinKey, OLD_ID)]);
    assert.is(box.devices().shredder.binFree, 199);
  } finally {
    await box.close();
  }
});

test('a jam: reverse pulse, card retained and on record, alarm, the next citizen is offered only the birth date; staff clears it', async () => {
  const box = await shredderBox();
  try {
    const first = await readyWithOldId(box, 'SHR-2');
    const second = await readyWithOldId(box, 'SHR-3');
    box.simulation.jamShredderNext();
    const sessionId = await offerCard(box, first.pin);
    await box.advance(2_500);
    assert.ok(box.world!.openDoor(first.compartmentId), 'the citizen gets the document first');
    await box.advance(300);
    assert.is(box.session(sessionId)!.outcome, 'collected', 'the citizen got the document');
    await box.advance(5_700);
    const mechanism = box.shredderMechanism!;
    assert.equal(mechanism.motorRuns.map((r) => r.direction), ['forward', 'reverse']);
    assert.equal(mechanism.throat, oldIdCard(), 'the card is still inside');
    assert.equal(box.alarms(true).map((a) => a.code), ['SHREDDER_JAM']);
    assert.equal((await box.audit()).filter((a) => a.action === 'oldId.retained').map((a) => a.subject), [oldDocumentTag(box.config.pinKey, OLD_ID)]);
    box.world!.closeDoor(first.compartmentId);
    await box.advance(6_000);

    const next = await box.startSession();
    await box.sessionInput(next.sessionId, { type: 'phone', phone: PHONE });
    await box.sessionInput(next.sessionId, { type: 'pin', pin: second.pin });
    // the registry knows the shredder is out: the panel does not even offer the card
    assert.equal(
      { step: box.session(next.sessionId)!.step, oldIdPossible: box.session(next.sessionId)!.oldIdPossible },
      { step: 'birthDate', oldIdPossible: false },
    );
    await box.sessionInput(next.sessionId, { type: 'cancel' });

    await box.clearShredder('staff-anna', false);
    await box.idle();
    assert.is(mechanism.throat, null, 'staff took the card out');
    assert.equal(box.alarms(true), []);
    assert.is(box.devices().shredder.state, 'idle');
  } finally {
    await box.close();
  }
});

test('the shredder\'s board unplugged mid-card: SHREDDER_FAULT, the card is on record as retained, the citizen has the document', async () => {
  const box = await shredderBox();
  try {
    const { pin: code, compartmentId } = await readyWithOldId(box, 'SHR-4');
    const sessionId = await offerCard(box, code);
    await box.advance(2_500);
    assert.ok(box.world!.openDoor(compartmentId), 'the citizen gets the document, then the card goes to the cutters');
    await box.advance(300);
    assert.is(box.session(sessionId)!.outcome, 'collected');
    await box.advance(700); // the motor is running now
    const bus = box.i2c!.buses.get(1)!;
    const chip = box.i2c!.chips.get('B2')!;
    bus.detach(0x21);
    await box.advance(6_000);
    assert.equal(box.alarms(true).map((a) => [a.subject, a.code]), [['B2', 'BOARD_MISSING'], ['shredder/1', 'SHREDDER_FAULT']]);
    assert.equal((await box.audit()).filter((a) => a.action === 'oldId.retained').map((a) => a.subject), [oldDocumentTag(box.config.pinKey, OLD_ID)]);
    assert.is(box.devices().shredder.state, 'jammed');
    bus.attach(chip);
    await box.advance(35_000);
    assert.equal(box.alarms(true).map((a) => a.code), ['SHREDDER_FAULT'], 'the board is back; the card still needs staff');
  } finally {
    await box.close();
  }
});

test.run();
