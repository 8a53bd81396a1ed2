import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { I2cBusQueue } from '../../drivers/i2c/bus-queue.js';
import { Mcp23017Chip } from '../../drivers/i2c/mcp23017.js';
import type { SimMcp23017 } from '../../drivers/i2c/sim/mcp23017.js';
import { advance, boardRig } from './helpers.js';

const MCP23017 = suite('MCP23017 driver: exact bus transcript');
const A = 0x20;
/** GPA0 and GPB2 are locks, GPA7/GPB7 outputs: IODIR and GPPU mark everything else as input. */
const INPUTS_A = 0x7e;
const INPUTS_B = 0x7b;

MCP23017('init sets IOCON (both maps), releases OLAT, then IODIR…GPPU in one sequential write', async () => {
  const { board, bus } = boardRig('mcp23017');
  await board.start();
  assert.equal(bus.lines(), [
    ['w', A, 0x05, [0x00]],
    ['w', A, 0x0a, [0x00]],
    ['w', A, 0x14, [0x00, 0x00]],
    ['w', A, 0x00, [INPUTS_A, INPUTS_B, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, INPUTS_A, INPUTS_B]],
  ]);
});

MCP23017('an unlock is two single-register writes of the whole OLAT byte, a pulse length apart', async () => {
  const { board, bus, clock } = boardRig('mcp23017');
  await board.start();
  await advance(clock, 10); // init's transfers are done on the bus
  bus.resetTranscript();
  const t0 = clock.now();
  const unlock = board.pulse('A01');
  await advance(clock, 300);
  await unlock;
  assert.equal(bus.lines(), [
    ['w', A, 0x14, [0x01]],
    ['w', A, 0x14, [0x00]],
  ]);
  assert.equal(bus.transcript.map((t) => (t.startUs - t0 * 1000) / 1000), [0, 300]);
  assert.equal(bus.transcript.map((t) => t.clocks), [29, 29]);
});

MCP23017('a lock on port B writes OLATB only', async () => {
  const { board, bus, clock } = boardRig('mcp23017');
  await board.start();
  bus.resetTranscript();
  const unlock = board.pulse('A02');
  await advance(clock, 300);
  await unlock;
  assert.equal(bus.lines(), [
    ['w', A, 0x15, [0x04]],
    ['w', A, 0x15, [0x00]],
  ]);
});

MCP23017('two overlapping pulses keep each other in the shadow instead of reading GPIO back', async () => {
  const { board, bus, clock } = boardRig('mcp23017', { lock: { pulseMs: 300 } });
  await board.start();
  bus.resetTranscript();
  const first = board.pulse('A01');
  await advance(clock, 100);
  const second = board.pulse('A02');
  await advance(clock, 400);
  await Promise.all([first, second]);
  assert.equal(bus.lines(), [
    ['w', A, 0x14, [0x01]],
    ['w', A, 0x15, [0x04]],
    ['w', A, 0x14, [0x00]],
    ['w', A, 0x15, [0x00]],
  ]);
  assert.not.ok(bus.lines().some(([op]) => op === 'r'), 'no read-modify-write');
});

MCP23017('a poll is one sequential read of GPIOA and GPIOB (48 clocks)', async () => {
  const { board, bus } = boardRig('mcp23017');
  await board.start();
  bus.resetTranscript();
  await board.pollDoors();
  // doors closed: GPA2 and GPB0 pulled low; other inputs high; outputs low
  assert.equal(bus.lines(), [['r', A, 0x12, [0x7a, 0x7a]]]);
  assert.is(bus.transcript[0]!.clocks, 48);
});

MCP23017('shutdown writes OLATA and OLATB released in one transfer', async () => {
  const { board, bus } = boardRig('mcp23017');
  await board.start();
  bus.resetTranscript();
  await board.shutdown();
  assert.equal(bus.lines(), [['w', A, 0x14, [0x00, 0x00]]]);
});

MCP23017('after a failed latch write the retry rewrites both OLAT bytes (the latch is unknown)', async () => {
  const { board, bus, clock } = boardRig('mcp23017');
  await board.start();
  bus.resetTranscript();
  bus.injectFault(A, 'I2C_NACK', 1);
  const unlock = board.pulse('A01');
  await advance(clock, 400);
  await unlock;
  assert.equal(bus.lines(), [
    ['w', A, 0x14, [0x01]],
    ['w', A, 0x14, [0x01, 0x00]],
    ['w', A, 0x14, [0x00]],
  ]);
  assert.is(bus.transcript[0]!.fault, 'I2C_NACK');
});

MCP23017('init recovers a chip left in BANK=1 byte mode with a lock energised by a crashed run', async () => {
  const { board, bus, simChip, world } = boardRig('mcp23017');
  await bus.writeByte(A, 0x00, 0x00); // IODIRA: outputs
  await bus.writeByte(A, 0x14, 0x01); // OLATA: A01 energised
  await bus.writeByte(A, 0x0a, 0xa0); // IOCON: BANK=1, SEQOP=1
  assert.ok(world.view('A01').energised);
  await board.start();
  const chip = simChip as SimMcp23017;
  assert.is(chip.peek('IOCON'), 0x00);
  assert.is(chip.peek('OLATA'), 0x00);
  assert.is(chip.peek('IODIRA'), INPUTS_A);
  assert.is(chip.peek('GPPUB'), INPUTS_B);
  assert.not.ok(world.view('A01').energised);
});

MCP23017('interrupt-on-change: GPINTEN arms the doors, INTF/INTCAP tell which door moved and reading clears it', async () => {
  const { bus, world, simChip } = boardRig('mcp23017');
  const chip = new Mcp23017Chip({ address: A, pins: { locks: 0x0401, doors: 0x0104 }, interruptOnChange: true });
  const queue = new I2cBusQueue(1, bus);
  await queue.transaction((tx) => chip.configure(tx));
  assert.equal(bus.lines().at(-1), ['w', A, 0x00, [INPUTS_A, INPUTS_B, 0, 0, 0x04, 0x01, 0, 0, 0, 0, 0, 0, INPUTS_A, INPUTS_B]]);
  world.forceOpen('A02'); // door of A02 on GPA2
  const sim = simChip as SimMcp23017;
  assert.ok(sim.interruptActive(0));
  bus.resetTranscript();
  const interrupt = await queue.transaction((tx) => chip.readInterrupt(tx));
  // only port A fired, so only INTCAPA captured (GPA2 high now); INTCAPB still holds its reset value
  assert.equal(bus.lines(), [['r', A, 0x0e, [0x04, 0x00, 0x7e, 0x00]]]);
  assert.equal(interrupt, { flagged: 0x0004, captured: 0x007e });
  assert.not.ok(sim.interruptActive(0));
});

MCP23017.run();
