import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { demoLayout, validateLayout } from '../../drivers/layout.js';
import { SerialMrzReader } from '../../drivers/serial/mrz-reader.js';
import type { SimulatedMrzReaderDevice } from '../../drivers/serial/sim/mrz-device.js';
import { createBox, type SimulatedHardware } from '../../src/box.js';
import { assertLayoutRefused } from '../i2c/helpers.js';
import { BIRTH, MONDAY_10AM, OLD_ID, PHONE, lastPin, oldIdCard } from '../helpers.js';

// The reader as a layout entry: validated before any I/O, and on `i2c-sim` the serial driver runs
// against the byte-level simulated reader.

const base = () => {
  const l = demoLayout(7);
  return { boards: l.boards, compartments: l.compartments };
};
const READER = { path: '/dev/ttyUSB0', commands: { enable: 'E1', disable: 'E0', eject: 'EJ', retain: 'RT' } };

const layout = suite('reader in the layout');

layout('a reader entry is completed with 9600 8N1, CR lines and the default timeouts', () => {
  const l = validateLayout({ ...base(), reader: READER });
  assert.equal(l.devices!.reader, {
    serial: { path: '/dev/ttyUSB0', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
    protocol: { lineEnd: 'CR', frame: null, presentLine: null, removedLine: null, commands: { enable: 'E1', disable: 'E0', eject: 'EJ', retain: 'RT' } },
    gpio: null,
    readTimeoutMs: 3000,
    reconnectMs: 5000,
  });
});

for (const [name, reader, code, message] of [
  ['no device path', { ...READER, path: 'ttyUSB0' }, 'READER_SERIAL_INVALID', /path "ttyUSB0" is not a device path/],
  ['odd baud rate', { ...READER, baudRate: 12345 }, 'READER_SERIAL_INVALID', /baudRate 12345 is not one of/],
  ['bad parity', { ...READER, parity: 'mark' }, 'READER_SERIAL_INVALID', /parity "mark"/],
  ['bad line end', { ...READER, lineEnd: 'NUL' }, 'READER_PROTOCOL_INVALID', /lineEnd "NUL"/],
  ['no way to eject', { path: '/dev/ttyS0', commands: { retain: 'RT' } }, 'READER_PROTOCOL_INVALID', /commands.eject and commands.retain, or ejectPin and retainPin/],
  ['non-ASCII command', { ...READER, commands: { ...READER.commands, eject: 'ÉJ' } }, 'READER_PROTOCOL_INVALID', /commands.eject "ÉJ" must be 1–32 ASCII/],
  ['eject pin on a compartment\'s lock pin', { path: '/dev/ttyS0', ejectPin: { board: 'B1', pin: 0 }, retainPin: { board: 'B1', pin: 7 } }, 'PIN_CONFLICT', /reader: ejectPin GPA0 of board B1 is already the lock pin of A01/],
  ['eject pin on an unknown board', { path: '/dev/ttyS0', ejectPin: { board: 'X', pin: 0 }, retainPin: { board: 'X', pin: 1 } }, 'DEVICE_BOARD_UNKNOWN', /ejectPin.board "X" is not in layout.boards/],
] as const) {
  layout(`refused: ${name} (${code})`, () => assertLayoutRefused({ ...base(), reader }, code, message));
}

layout('on i2c-sim the box reads the old ID card through the serial driver and the byte-level reader', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  const box = await createBox({ storage: 'memory:', layout: { ...base(), reader: READER }, hardware: 'i2c-sim' }, { clock });
  try {
    assert.instance(box.hardware.reader, SerialMrzReader);
    const device = box.cardSlot as SimulatedMrzReaderDevice;
    const world = box.world!;
    await box.registerPickup({ reference: 'LAY-1', documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH, oldDocumentNumber: OLD_ID });
    const { compartmentId } = await box.loadPickup('LAY-1', 'staff-anna');
    await box.advance(400);
    assert.ok(world.openDoor(compartmentId));
    await box.advance(300);
    world.closeDoor(compartmentId);
    await box.advance(300);
    const pin = lastPin({ box, hw: box.hardware as SimulatedHardware, clock });
    const { sessionId } = await box.startSession();
    await box.idle();
    for (const input of [{ type: 'phone', phone: PHONE }, { type: 'pin', pin }, { type: 'factor', factor: 'oldId' }] as const) {
      await box.sessionInput(sessionId, input);
      await box.idle();
    }
    assert.ok(device.insert(oldIdCard()), 'the slot was opened by the enable command');
    await box.advance(2_500);
    // The checked card stays in the reader until the citizen can take the new document.
    assert.equal(device.commands, ['E0', 'E1']);
    assert.ok(world.openDoor(compartmentId));
    await box.advance(2_500);
    assert.equal(device.commands, ['E0', 'E1', 'RT']);
    assert.equal(device.retained.map((c) => c.mrz), [oldIdCard().mrz]);
    assert.equal((box.hardware as SimulatedHardware).shredder.shredded.map((c) => c.mrz), [oldIdCard().mrz]);
    assert.is(box.session(sessionId)!.outcome, 'collected');
  } finally {
    await box.close();
  }
});

layout('a reader without eject/retain commands moves the card by pulses on expander pins (GPA6 eject, GPA7 retain)', async () => {
  const l = demoLayout(6);
  const reader = { path: '/dev/ttyUSB0', commands: { enable: 'E1', disable: 'E0' }, ejectPin: { board: 'B1', pin: 6 }, retainPin: { board: 'B1', pin: 7 }, gpioPulseMs: 150 };
  const clock = new SimulatedClock(MONDAY_10AM);
  const box = await createBox({ storage: 'memory:', layout: { boards: l.boards, compartments: l.compartments, reader }, hardware: 'i2c-sim' }, { clock });
  try {
    const device = box.cardSlot as SimulatedMrzReaderDevice;
    const bus = box.i2c!.buses.get(1)!;
    await box.registerPickup({ reference: 'GPIO-1', documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH, oldDocumentNumber: OLD_ID });
    const { compartmentId } = await box.loadPickup('GPIO-1', 'staff-anna');
    await box.advance(400);
    assert.ok(box.world!.openDoor(compartmentId));
    await box.advance(300);
    box.world!.closeDoor(compartmentId);
    await box.advance(300);
    const pin = lastPin({ box, hw: box.hardware as SimulatedHardware, clock });
    const { sessionId } = await box.startSession();
    for (const input of [{ type: 'phone', phone: PHONE }, { type: 'pin', pin }, { type: 'factor', factor: 'oldId' }] as const) {
      await box.sessionInput(sessionId, input);
    }
    await box.idle();
    assert.ok(device.insert(oldIdCard()));
    await box.advance(2_500);
    assert.equal(device.retained, [], 'the card waits in the reader until the door opens');
    // The door opens: only now is the card retained for the shredder.
    assert.ok(box.world!.openDoor(compartmentId));
    bus.resetTranscript();
    await box.advance(600);
    // the retain pulse: GPA7 on, 150 ms, off — whole OLATA bytes from the shadow
    assert.equal(bus.lines().filter((x) => x[0] === 'w' && x[2] === 0x14).map((x) => x[3]), [[0x80], [0x00]]);
    assert.equal(device.commands, ['E0', 'E1'], 'no eject or retain command on the line');
    assert.equal(device.retained.map((c) => c.mrz), [oldIdCard().mrz]);
  } finally {
    await box.close();
  }
});

layout.run();
