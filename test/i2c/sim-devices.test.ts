import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { validateLayout } from '../../drivers/layout.js';
import { SimulatedI2cBus } from '../../drivers/i2c/sim/bus.js';
import { SimMcp23017 } from '../../drivers/i2c/sim/mcp23017.js';
import { SimPcf8574 } from '../../drivers/i2c/sim/pcf8574.js';
import { REGISTER_WRITE_CLOCKS, TWO_REGISTER_READ_CLOCKS } from '../../drivers/i2c/sim/timing.js';
import { SimulatedWorld } from '../../drivers/i2c/sim/world.js';
import { newClock, rejectionCode } from './helpers.js';

/** Datasheet addresses, written out here rather than taken from the driver. */
const IODIRA = 0x00, IPOLA = 0x02, GPINTENA = 0x04, IOCON = 0x0a, GPPUA = 0x0c, INTFA = 0x0e, INTCAPA = 0x10;
const GPIOA = 0x12, OLATA = 0x14, OLATB = 0x15;

/** An MCP23017 at 0x20 on a bus, with a door switch on GPA1 in a world. */
function mcpBench() {
  const clock = newClock();
  const bus = new SimulatedI2cBus(clock);
  const chip = new SimMcp23017(0x20);
  bus.attach(chip);
  const layout = validateLayout({
    boards: [{ id: 'B1', kind: 'mcp23017', bus: 1, address: 0x20 }],
    compartments: [{ id: 'A01', board: 'B1', lockPin: 8, doorPin: 1, size: 'S', heightCm: 150 }],
  });
  const world = new SimulatedWorld(layout, clock);
  world.attach('B1', chip);
  return { bus, chip, world };
}

const read = async (bus: SimulatedI2cBus, register: number, n: number): Promise<number[]> => {
  const buf = Buffer.alloc(n);
  await bus.readI2cBlock(0x20, register, n, buf);
  return [...buf];
};

const MCP = suite('simulated MCP23017 registers');

MCP('power-on: IODIR 0xFF, everything else 0', async () => {
  const { bus } = mcpBench();
  assert.equal(await read(bus, IODIRA, 0x16), [0xff, 0xff, ...Array(0x14).fill(0)]);
});

MCP('sequential mode: the pointer increments and rolls over from OLATB to IODIRA', async () => {
  const { bus } = mcpBench();
  await bus.writeI2cBlock(0x20, OLATA, 3, Buffer.from([0x11, 0x22, 0x33]));
  assert.equal(await read(bus, OLATA, 3), [0x11, 0x22, 0x33]);
});

MCP('byte mode with BANK=0: the pointer toggles inside the A/B pair', async () => {
  const { bus } = mcpBench();
  await bus.writeI2cBlock(0x20, OLATA, 2, Buffer.from([0x0f, 0xf0]));
  await bus.writeByte(0x20, IOCON, 0x20); // SEQOP=1
  assert.equal(await read(bus, OLATA, 3), [0x0f, 0xf0, 0x0f]);
  assert.equal(await read(bus, OLATB, 2), [0xf0, 0x0f]);
});

MCP('BANK=1: ports are split (OLATA 0x0A, OLATB 0x1A, IOCON 0x05/0x15) and byte mode keeps the pointer', async () => {
  const { bus, chip } = mcpBench();
  await bus.writeI2cBlock(0x20, OLATA, 2, Buffer.from([0x0f, 0xf0]));
  await bus.writeByte(0x20, IOCON, 0x80);
  assert.equal(await read(bus, 0x0a, 1), [0x0f]);
  assert.equal(await read(bus, 0x1a, 1), [0xf0]);
  assert.equal(await read(bus, 0x05, 1), [0x80]);
  assert.equal(await read(bus, 0x0b, 1), [0x00], 'unimplemented address reads 0');
  await bus.writeByte(0x20, 0x15, 0xa0); // IOCON through its port-B address: BANK=1, SEQOP=1
  assert.equal(await read(bus, 0x0a, 3), [0x0f, 0x0f, 0x0f]);
  assert.is(chip.peek('IOCON'), 0xa0);
});

MCP('IOCON bit 0 is unimplemented and reads 0', async () => {
  const { bus } = mcpBench();
  await bus.writeByte(0x20, IOCON, 0x03);
  assert.is(await bus.readByte(0x20, IOCON), 0x02);
});

MCP('GPIO reads the pins, OLAT reads the latch; a GPIO write lands in OLAT', async () => {
  const { bus } = mcpBench();
  await bus.writeByte(0x20, IODIRA, 0xf0); // GPA0–3 outputs
  await bus.writeByte(0x20, GPIOA, 0xff);
  assert.is(await bus.readByte(0x20, OLATA), 0xff);
  // inputs GPA4–6 float without pull-ups (read 0), GPA7 is output-only (reads 0 as input)
  assert.is(await bus.readByte(0x20, GPIOA), 0x0f);
  await bus.writeByte(0x20, GPPUA, 0xf0);
  assert.is(await bus.readByte(0x20, GPIOA), 0x7f, 'pull-ups lift GPA4–6, GPA7 stays 0');
});

MCP('a closed door switch pulls its input low; IPOL inverts what GPIO reports', async () => {
  const { bus, world } = mcpBench();
  await bus.writeByte(0x20, GPPUA, 0xff);
  assert.is(await bus.readByte(0x20, GPIOA), 0x7d, 'GPA1 low: door closed');
  world.forceOpen('A01');
  assert.is(await bus.readByte(0x20, GPIOA), 0x7f);
  await bus.writeByte(0x20, IPOLA, 0x02);
  assert.is(await bus.readByte(0x20, GPIOA), 0x7d);
});

MCP('INTCAP holds the first capture until INTCAP or GPIO is read; INTF clears then', async () => {
  const { bus, world, chip } = mcpBench();
  await bus.writeByte(0x20, GPPUA, 0xff);
  await bus.writeByte(0x20, GPINTENA, 0x02);
  world.forceOpen('A01');
  assert.ok(chip.interruptActive(0));
  world.close('A01'); // a second change while pending is not captured
  assert.equal(await read(bus, INTFA, 1), [0x02]);
  assert.equal(await read(bus, INTCAPA, 1), [0x7f], 'captured with the door open');
  assert.not.ok(chip.interruptActive(0));
  assert.equal(await read(bus, INTFA, 1), [0x00]);
  world.forceOpen('A01');
  assert.ok(chip.interruptActive(0));
  await bus.readByte(0x20, GPIOA);
  assert.not.ok(chip.interruptActive(0), 'reading GPIO clears it too');
});

MCP('INTCON=1 compares with DEFVAL: a mismatch that persists fires again after clearing', async () => {
  const { bus, world, chip } = mcpBench();
  await bus.writeByte(0x20, GPPUA, 0xff);
  await bus.writeI2cBlock(0x20, 0x06, 1, Buffer.from([0x00])); // DEFVALA: GPA1 expected low (closed)
  await bus.writeByte(0x20, 0x08, 0x02); // INTCONA
  await bus.writeByte(0x20, GPINTENA, 0x02);
  world.forceOpen('A01');
  await bus.readByte(0x20, INTCAPA);
  assert.ok(chip.interruptActive(0), 'door still open: interrupt again');
  world.close('A01');
  await bus.readByte(0x20, INTCAPA);
  assert.not.ok(chip.interruptActive(0));
});

MCP.run();

const PCF = suite('simulated PCF8574');

PCF('quasi-bidirectional: a 1 reads the outside level, a 0 always reads low', async () => {
  const clock = newClock();
  const bus = new SimulatedI2cBus(clock);
  const chip = new SimPcf8574(0x38);
  bus.attach(chip);
  const layout = validateLayout({
    boards: [{ id: 'B1', kind: 'pcf8574a', bus: 1, address: 0x38 }],
    compartments: [{ id: 'A01', board: 'B1', lockPin: 0, doorPin: 4, size: 'S', heightCm: 150 }],
  });
  const world = new SimulatedWorld(layout, clock);
  world.attach('B1', chip);
  assert.is(await bus.receiveByte(0x38), 0xef, 'power-on 0xFF, door closed pulls P4 low');
  await bus.sendByte(0x38, 0x7e);
  assert.is(await bus.receiveByte(0x38), 0x6e);
  assert.ok(world.view('A01').energised, 'P0 low energises the active-low lock');
  world.forceOpen('A01');
  assert.is(await bus.receiveByte(0x38), 0x7e);
});

PCF.run();

const BUS = suite('simulated bus');

BUS('bus time: a register write is 29 clocks, a two-register read 48, at 100 and 400 kHz', async () => {
  assert.is(REGISTER_WRITE_CLOCKS, 29);
  assert.is(TWO_REGISTER_READ_CLOCKS, 48);
  for (const kHz of [100, 400]) {
    const bus = new SimulatedI2cBus(newClock(), { kHz });
    bus.attach(new SimMcp23017(0x20));
    await bus.writeByte(0x20, OLATA, 1);
    await bus.readI2cBlock(0x20, GPIOA, 2, Buffer.alloc(2));
    assert.equal(bus.transcript.map((t) => t.clocks), [29, 48]);
    assert.is(bus.busTimeUs, (77 * 1000) / kHz);
  }
});

BUS('SMBus words are little-endian: the low byte goes to the addressed register', async () => {
  const bus = new SimulatedI2cBus(newClock());
  const chip = new SimMcp23017(0x20);
  bus.attach(chip);
  await bus.writeWord(0x20, OLATA, 0x8001);
  assert.equal([chip.peek('OLATA'), chip.peek('OLATB')], [0x01, 0x80]);
  assert.is(await bus.readWord(0x20, OLATA), 0x8001);
});

BUS('transfers queue on the bus: the second starts when the first ends', async () => {
  const bus = new SimulatedI2cBus(newClock(), { kHz: 100 });
  bus.attach(new SimMcp23017(0x20));
  await bus.writeByte(0x20, OLATA, 1);
  await bus.writeByte(0x20, OLATA, 0);
  const [first, second] = bus.transcript;
  assert.is(second!.startUs - first!.startUs, 290);
});

BUS('an address nobody answers is BOARD_MISSING; injected NACK and timeout fail with their codes', async () => {
  const bus = new SimulatedI2cBus(newClock());
  bus.attach(new SimMcp23017(0x20));
  assert.is(await rejectionCode(bus.readByte(0x21, GPIOA)), 'BOARD_MISSING');
  bus.injectFault(0x20, 'I2C_NACK', 1);
  assert.is(await rejectionCode(bus.readByte(0x20, GPIOA)), 'I2C_NACK');
  bus.injectFault(0x20, 'I2C_TIMEOUT', 1);
  assert.is(await rejectionCode(bus.writeByte(0x20, OLATA, 1)), 'I2C_TIMEOUT');
  assert.is(await bus.readByte(0x20, OLATA), 0, 'the failed write never reached the chip');
  assert.equal(bus.transcript.map((t) => t.fault), ['BOARD_MISSING', 'I2C_NACK', 'I2C_TIMEOUT', undefined]);
  assert.equal(await bus.scan(), [0x20]);
});

BUS.run();
