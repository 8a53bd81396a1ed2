import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ShredderLayout } from '../../drivers/device-layout.js';
import type { GpioPort } from '../../drivers/i2c/port.js';
import { ExpanderShredder } from '../../drivers/i2c/shredder.js';
import { validateLayout } from '../../drivers/layout.js';
import { assertLayoutRefused } from '../i2c/helpers.js';
import { ADDRESS, settle, shredderRig } from './shredder-rig.js';

// The shredder on expander pins: exact bus transcripts, the motor's on-time, jam handling, the
// bin-full switch, and the latch shared with the locks.

const A = ADDRESS.mcp23017;
const P = ADDRESS.pcf8574;
const CARD = { mrz: ['IDD<<L01X00T47<<<<<<<<<<<<<<<'] };

const shredder = suite('shredder on the expander boards');

shredder('MCP23017: one card is a switch read, flap open/close, motor on, a jam read per poll, motor off, a last jam read', async () => {
  const r = await shredderRig('mcp23017');
  const bus = r.bank.buses.get(1)!;
  bus.resetTranscript();
  r.mechanism.feed.push(CARD);
  const t0 = r.clock.now();
  const result = r.shredder.shred();
  await r.clock.advance(1000, settle);
  assert.equal(await result, { ok: true });
  // GPA4 motor, GPA6 flap (OLATA 0x14); GPB4 jam, GPB5 bin full read high = open switches.
  assert.equal(bus.lines(), [
    ['r', A, 0x12, [0x0e, 0x7e]],
    ['w', A, 0x14, [0x40]],
    ['w', A, 0x14, [0x00]],
    ['w', A, 0x14, [0x10]],
    ['r', A, 0x12, [0x1e, 0x7e]],
    ['w', A, 0x14, [0x00]],
    ['r', A, 0x12, [0x0e, 0x7e]],
  ]);
  assert.equal(r.mechanism.motorRuns, [{ start: t0 + 50, end: t0 + 250, direction: 'forward' }]);
  assert.equal(r.mechanism.shredded, [CARD]);
  assert.is(r.mechanism.flapOpenings, 1);
  assert.is(r.shredder.binFree(), 199);
});

shredder('PCF8574: the same card on active-low outputs, one port byte per step', async () => {
  const r = await shredderRig('pcf8574');
  const bus = r.bank.buses.get(1)!;
  bus.resetTranscript();
  r.mechanism.feed.push(CARD);
  const result = r.shredder.shred();
  await r.clock.advance(1000, settle);
  assert.equal(await result, { ok: true });
  assert.equal(bus.lines(), [
    ['r', P, null, [0xfd]],
    ['w', P, null, [0xbf]],
    ['w', P, null, [0xff]],
    ['w', P, null, [0xef]],
    ['r', P, null, [0xed]],
    ['w', P, null, [0xff]],
    ['r', P, null, [0xfd]],
  ]);
  assert.equal(r.mechanism.shredded, [CARD]);
});

shredder('a jam stops the motor, reverses it for reverseMs (direction relay only while the motor is off) and reports SHREDDER_JAM', async () => {
  const r = await shredderRig('mcp23017');
  const bus = r.bank.buses.get(1)!;
  r.mechanism.jamNext = true;
  r.mechanism.feed.push(CARD);
  bus.resetTranscript();
  const t0 = r.clock.now();
  const result = r.shredder.shred();
  await r.clock.advance(1000, settle);
  assert.equal(await result, { ok: false, code: 'SHREDDER_JAM' });
  assert.equal(bus.lines().slice(5), [
    ['w', A, 0x14, [0x00]],
    ['r', A, 0x12, [0x0e, 0x6e]],
    ['w', A, 0x14, [0x20]],
    ['w', A, 0x14, [0x30]],
    ['w', A, 0x14, [0x20]],
    ['w', A, 0x14, [0x00]],
  ]);
  assert.equal(r.mechanism.motorRuns, [
    { start: t0 + 50, end: t0 + 250, direction: 'forward' },
    { start: t0 + 250, end: t0 + 350, direction: 'reverse' },
  ]);
  assert.equal(r.mechanism.shredded, []);
  assert.equal(r.mechanism.throat, CARD, 'the card stays inside for staff');
  assert.equal(await r.shredder.shred(), { ok: false, code: 'SHREDDER_JAM' }, 'refused until cleared, with nothing moved');
});

shredder('a jam seen while running stops the motor at once, long before shredMs', async () => {
  const r = await shredderRig('mcp23017', { shredMs: 800, pollMs: 50 });
  r.mechanism.jamNext = true;
  r.mechanism.feed.push(CARD);
  const t0 = r.clock.now();
  const result = r.shredder.shred();
  await r.clock.advance(2000, settle);
  assert.equal(await result, { ok: false, code: 'SHREDDER_JAM' });
  // flap 50 ms; the cutters stall 150 ms into the run, and the poll due at that moment sees it
  assert.equal(r.mechanism.motorRuns[0], { start: t0 + 50, end: t0 + 200, direction: 'forward' });
  assert.equal(r.mechanism.motorRuns[1], { start: t0 + 200, end: t0 + 300, direction: 'reverse' });
});

shredder('the maximum on-time holds when the jam reads are held up by a slow bus: the watchdog stops the motor', async () => {
  const r = await shredderRig('mcp23017');
  const gpio = r.bank.locks.gpio;
  // every read takes 500 ms more (a bus stuck in retries), far past the 200 ms run
  const slow: GpioPort = { ...gpio, set: (p, a) => gpio.set(p, a), read: async (pins) => (await r.clock.sleep(500), gpio.read(pins)) };
  const driver = new ExpanderShredder({ layout: r.layout.devices!.shredder!, gpio: slow, clock: r.clock });
  r.mechanism.feed.push(CARD);
  const t0 = r.clock.now();
  const result = driver.shred();
  await r.clock.advance(5000, settle);
  await result;
  assert.equal(r.mechanism.motorRuns[0], { start: t0 + 550, end: t0 + 750, direction: 'forward' });
});

shredder('a run longer than the maximum on-time is refused before any I/O', () => {
  const layout = { ...(validateLayout({ boards: [{ id: 'B1', kind: 'mcp23017', bus: 1, address: 0x20 }], compartments: [], shredder: shredderPins() }).devices!.shredder as ShredderLayout) };
  layout.timing = { ...layout.timing, shredMs: 9000, maxMotorMs: 8000 };
  const noIo = new Proxy({} as GpioPort, { get: (_t, key) => (key === 'onPoll' ? () => () => {} : () => { throw new Error('I/O'); }) });
  assert.throws(() => new ExpanderShredder({ layout, gpio: noIo, clock: { now: () => 0 } as never }), (e: { code?: string }) => e.code === 'SHREDDER_ON_TIME_EXCEEDED');
});

shredder('a full bin refuses with SHREDDER_BIN_FULL after one read, moving nothing; emptied, it takes cards again', async () => {
  const r = await shredderRig('mcp23017', {}, { binCapacity: 5 });
  const bus = r.bank.buses.get(1)!;
  r.mechanism.setBinCount(5);
  r.mechanism.feed.push(CARD);
  bus.resetTranscript();
  assert.equal(await r.shredder.shred(), { ok: false, code: 'SHREDDER_BIN_FULL' });
  assert.equal(bus.lines(), [['r', A, 0x12, [0x0e, 0x5e]]]);
  assert.is(r.shredder.binFree(), 0);
  r.mechanism.emptyBin();
  r.shredder.emptyBin();
  const result = r.shredder.shred();
  await r.clock.advance(1000, settle);
  assert.equal(await result, { ok: true });
  assert.is(r.shredder.binFree(), 4);
});

shredder('the bin-full switch is seen by the board\'s door poll, with no transfer of its own', async () => {
  const r = await shredderRig('mcp23017', {}, { pollMs: 100 });
  const bus = r.bank.buses.get(1)!;
  await r.clock.advance(100, settle);
  assert.is(r.shredder.binFree(), 200);
  bus.resetTranscript();
  r.mechanism.setBinCount(200);
  await r.clock.advance(100, settle);
  assert.equal(bus.lines(), [['r', A, 0x12, [0x0e, 0x5e]]], 'only the door poll itself');
  assert.is(r.shredder.binFree(), 0);
});

shredder('a lock pulse during a shred shares the latch: whole-byte writes carry both the motor and the lock', async () => {
  const r = await shredderRig('mcp23017', { shredMs: 800 });
  const bus = r.bank.buses.get(1)!;
  r.mechanism.feed.push(CARD);
  bus.resetTranscript();
  const shred = r.shredder.shred();
  await r.clock.advance(100, settle);
  const pulse = r.bank.locks.pulse('A01');
  await r.clock.advance(2000, settle);
  await Promise.all([shred, pulse]);
  const writes = bus.lines().filter((l) => l[0] === 'w').map((l) => l[3][0]);
  assert.equal(writes, [0x40, 0x00, 0x10, 0x11, 0x10, 0x00]);
  assert.equal(r.bank.world.view('A01').pulses.length, 1);
});

function shredderPins(over: Record<string, unknown> = {}) {
  const pin = (n: number) => ({ board: 'B1', pin: n });
  return { motorPin: pin(4), reversePin: pin(5), flapPin: pin(6), jamPin: pin(12), binFullPin: pin(13), ...over };
}

for (const [name, shredderInput, code, message] of [
  ['motor on a compartment\'s lock pin', shredderPins({ motorPin: { board: 'B1', pin: 0 } }), 'PIN_CONFLICT', /shredder: motorPin GPA0 of board B1 is already the lock pin of A01/],
  ['jam and bin full on one pin', shredderPins({ binFullPin: { board: 'B1', pin: 12 } }), 'PIN_CONFLICT', /binFullPin GPB4 of board B1 is already the jamPin of shredder/],
  ['jam switch on output-only GPA7', shredderPins({ jamPin: { board: 'B1', pin: 7 } }), 'INPUT_ON_OUTPUT_ONLY_PIN', /jamPin is GPA7 of board B1, which is output-only/],
  ['flap on a board not in the layout', shredderPins({ flapPin: { board: 'B9', pin: 1 } }), 'DEVICE_BOARD_UNKNOWN', /flapPin.board "B9"/],
  ['a pin beyond the chip', shredderPins({ reversePin: { board: 'B1', pin: 16 } }), 'PIN_OUT_OF_RANGE', /reversePin.pin 16 is beyond the 16 pins/],
  ['a run longer than the motor may run', shredderPins({ shredMs: 9000, maxMotorMs: 8000 }), 'SHREDDER_TIMING_INVALID', /shredMs 9000 and reverseMs 500 must not exceed maxMotorMs 8000/],
  ['no motor pin', shredderPins({ motorPin: undefined }), 'LAYOUT_MALFORMED', /shredder: motorPin must be an object/],
] as const) {
  shredder(`layout refused: ${name} (${code})`, () =>
    assertLayoutRefused(
      {
        boards: [{ id: 'B1', kind: 'mcp23017', bus: 1, address: 0x20 }],
        compartments: [{ id: 'A01', board: 'B1', lockPin: 0, doorPin: 8, size: 'M', heightCm: 100 }],
        shredder: shredderInput,
      },
      code,
      message,
    ),
  );
}

shredder.run();
