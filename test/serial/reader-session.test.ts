import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { SerialMrzReader } from '../../drivers/serial/mrz-reader.js';
import { DEFAULT_SERIAL } from '../../drivers/serial/port.js';
import { openSerialLine } from '../../drivers/serial/serialport-adapter.js';
import { createBox, simulatedHardware, type SimulatedHardware } from '../../src/box.js';
import { demoCompartments, resolveConfig, type BoxConfigInput } from '../../src/config.js';
import { BIRTH, MONDAY_10AM, OLD_ID, authenticate, readyPickup, type TestBox } from '../helpers.js';
import { oldDocumentTag } from '../../src/crypto.js';
import { SOCAT, suiteNeeding } from '../support/requires.js';
import { PLAIN_PROTOCOL, scriptedReader, until, type ScriptedReader, testCard } from './pty.js';

// A whole box whose card reader is the serial driver on a real pty, a scripted reader on the other
// end: from the citizen choosing "old ID card" to the verdict, the eject or retain command on the
// wire, and the fallback to the birth date when the reader goes away.

const CARD = testCard(OLD_ID, BIRTH);
const lines = (mrz: readonly string[]) => mrz.map((l) => `${l}\r`).join('');

interface PtyBox extends TestBox {
  reader: ScriptedReader;
  driver: SerialMrzReader;
}

async function ptyBox(): Promise<PtyBox> {
  const reader = await scriptedReader();
  const clock = new SimulatedClock(MONDAY_10AM);
  const input: BoxConfigInput = { storage: 'memory:', compartments: demoCompartments(6), lockPulseMs: 0 };
  const driver = new SerialMrzReader({ open: () => openSerialLine({ ...DEFAULT_SERIAL, path: reader.path }), clock, protocol: PLAIN_PROTOCOL, readTimeoutMs: 2000 });
  const devices = simulatedHardware(resolveConfig(input), clock);
  const box = await createBox(input, { clock, hardware: { ...devices, reader: driver } });
  return { box, clock, hw: devices as SimulatedHardware, reader, driver };
}

/** Lets the actors and the real pty settle until the session reaches a step. */
async function untilStep(t: PtyBox, sessionId: string, step: string): Promise<void> {
  await until(() => t.box.session(sessionId)?.step === step, 20_000, `session at step ${step}`);
  await t.box.idle();
}

async function chooseCard(t: PtyBox, reference: string): Promise<{ sessionId: string; compartmentId: string }> {
  const { pin, compartmentId } = await readyPickup(t, reference);
  const sessionId = await authenticate(t, pin);
  await t.box.sessionInput(sessionId, { type: 'factor', factor: 'oldId' });
  await t.box.idle();
  await t.reader.waitForCommand('E1\r');
  return { sessionId, compartmentId };
}

/** Runs `fn` on a fresh pty box and closes driver, box and reader afterwards, pass or fail. */
async function withPtyBox(fn: (t: PtyBox) => Promise<void>): Promise<void> {
  const t = await ptyBox();
  try {
    await fn(t);
  } finally {
    // A read still waiting for the reader's bytes is I/O in flight: end it before the box drains.
    await t.driver.close();
    await t.box.close();
    await t.reader.close();
  }
}

/** Waits until the session is back at the factor choice with `code` and the card went out with the eject command. */
async function assertEjectedWith(t: PtyBox, sessionId: string, code: string): Promise<void> {
  await untilStep(t, sessionId, 'factor');
  await t.reader.waitForCommand('EJ\r');
  assert.is(t.box.session(sessionId)!.error, code);
}

const e2e = suiteNeeding('old-ID card over the serial line, whole box', [SOCAT]);

e2e('a good read: the card matches, the door opens, then the retain command moves it to the shredder and its destruction is audited', () => withPtyBox(async (t) => {
  const { sessionId, compartmentId } = await chooseCard(t, 'SER-1');
  t.reader.send(lines(CARD));
  await untilStep(t, sessionId, 'opening');
  // The checked card waits in the reader until the citizen can take the new document.
  assert.not.ok(t.reader.received().includes('RT\r'), 'nothing retained before the door opens');
  assert.ok(t.hw.locks.openDoor(compartmentId), 'the compartment is unlocked');
  await t.reader.waitForCommand('RT\r');
  assert.is(t.reader.received(), 'E0\rE1\rRT\r');
  // The reader has the command; the box records the destruction once the transfer's answer is in.
  await t.box.idle();
  const destroyed = (await t.box.audit()).filter((a) => a.action === 'oldId.destroyed');
  assert.equal(destroyed.map((a) => a.subject), [oldDocumentTag(t.box.config.pinKey, OLD_ID)]);
}));

e2e('a check-digit failure: the session says INVALID_MRZ and the card goes back with the eject command', () => withPtyBox(async (t) => {
  const { sessionId } = await chooseCard(t, 'SER-2');
  const line2 = CARD[1]!;
  const broken = [CARD[0]!, line2.slice(0, 6) + String((Number(line2[6]) + 1) % 10) + line2.slice(7), CARD[2]!];
  t.reader.send(lines(broken));
  await assertEjectedWith(t, sessionId, 'INVALID_MRZ');
  assert.not.ok(t.reader.received().includes('RT\r'), 'nothing is retained');
  assert.equal((await t.box.audit()).filter((a) => a.action === 'oldId.destroyed'), []);
}));

e2e('garbage: CARD_UNREADABLE at the panel, the card is ejected, the citizen may choose again', () => withPtyBox(async (t) => {
  const { sessionId } = await chooseCard(t, 'SER-3');
  t.reader.send('\x1b[2J??##\r');
  await assertEjectedWith(t, sessionId, 'CARD_UNREADABLE');
}));

e2e('a partial line: after the read timeout (on the box clock) the panel says CARD_UNREADABLE and the card is ejected', () => withPtyBox(async (t) => {
  const { sessionId } = await chooseCard(t, 'SER-4');
  t.reader.send(CARD[0]!.slice(0, 17));
  await until(() => t.box.devices().reader.state === 'reading', 20_000, 'reader reading');
  // The read is I/O in flight (bytes are due from the reader), so the box is not idle: move the
  // clock alone, as the reader's silence passes.
  await t.clock.advance(1999);
  assert.is(t.box.session(sessionId)!.step, 'card', 'still waiting within the timeout');
  await t.clock.advance(1);
  await assertEjectedWith(t, sessionId, 'CARD_UNREADABLE');
}));

e2e('the reader unplugged mid-read: the session falls back to the birth date, an alarm says why, and the pickup completes', () => withPtyBox(async (t) => {
  const { sessionId, compartmentId } = await chooseCard(t, 'SER-5');
  t.reader.send(lines(CARD.slice(0, 1)));
  await until(() => t.box.devices().reader.state === 'reading', 20_000, 'reader reading');
  await t.reader.unplug();
  await untilStep(t, sessionId, 'birthDate');
  const view = t.box.session(sessionId)!;
  assert.is(view.error, 'CARD_UNAVAILABLE');
  assert.not.ok(view.oldIdPossible);
  assert.is(t.box.devices().reader.available, false);
  assert.equal(t.box.alarms(true).map((a) => a.code), ['READER_DISCONNECTED']);
  await t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: BIRTH });
  await t.box.idle();
  assert.is(t.box.session(sessionId)!.step, 'opening');
  assert.ok(t.hw.locks.openDoor(compartmentId));
  await t.box.idle();
  assert.is(t.box.session(sessionId)!.outcome, 'collected');
}));

e2e.run();
