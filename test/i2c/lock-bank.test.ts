import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSimulatedLockBank } from '../../drivers/i2c/lock-bank.js';
import { demoLayout } from '../../drivers/layout.js';
import type { BoardStatusEvent, DoorEvent } from '../../drivers/ports.js';
import { advance, newClock, rejectionCode } from './helpers.js';

/** Two MCP23017 boards: B1 at 0x20 carries A01–A07, B2 at 0x21 carries A08 and B01–B06. */
async function started() {
  const clock = newClock();
  const sim = createSimulatedLockBank(demoLayout(14), clock);
  const doors: DoorEvent[] = [];
  const statuses: BoardStatusEvent[] = [];
  sim.locks.onDoorChange((e) => doors.push(e));
  sim.locks.onBoardStatus((e) => statuses.push(e));
  await sim.locks.start();
  const bus = sim.buses.get(1)!;
  return { ...sim, clock, bus, doors, statuses };
}

const B1_COMPARTMENTS = ['A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'A07'];
const GPIO_READS = (lines: ReturnType<import('../../drivers/i2c/sim/bus.js').SimulatedI2cBus['lines']>) =>
  lines.filter(([op, , register]) => op === 'r' && register === 0x12).map(([, address]) => address);

const bank = suite('I2C lock bank');

bank('start initialises every board and knows every door before it resolves', async () => {
  const { locks, statuses } = await started();
  const doors = await locks.readDoors();
  assert.is(doors.size, 14);
  assert.ok([...doors.values()].every((d) => d === 'closed'));
  assert.equal(statuses, []);
});

bank('every board is polled once per period, each in one read', async () => {
  const { bus, clock } = await started();
  bus.resetTranscript();
  await advance(clock, 100);
  assert.equal(bus.lines(), [
    ['r', 0x20, 0x12, [0x00, 0x00]],
    ['r', 0x21, 0x12, [0x00, 0x00]],
  ]);
  await advance(clock, 300);
  assert.is(bus.transcript.length, 8);
});

bank('an unlocked door that a person opens and closes is reported, debounced', async () => {
  const { locks, world, clock, doors } = await started();
  const unlock = locks.pulse('A03');
  await advance(clock, 300);
  await unlock;
  assert.ok(world.open('A03'));
  await advance(clock, 200);
  assert.equal(doors, [{ compartment: 'A03', door: 'open' }]);
  world.close('A03');
  await advance(clock, 200);
  assert.equal(doors.at(-1), { compartment: 'A03', door: 'closed' });
  assert.ok(world.view('A03').latched);
});

bank('a door forced open without a pulse is reported open', async () => {
  const { world, clock, doors } = await started();
  world.forceOpen('B02');
  await advance(clock, 200);
  assert.equal(doors, [{ compartment: 'B02', door: 'open' }]);
  assert.equal(world.view('B02').pulses, []);
});

bank('a jammed lock is pulsed but the door never moves', async () => {
  const { locks, world, clock, doors } = await started();
  world.jam('A05');
  const unlock = locks.pulse('A05');
  await advance(clock, 300);
  await unlock;
  assert.is(world.view('A05').pulses.length, 1);
  assert.not.ok(world.open('A05'));
  await advance(clock, 1000);
  assert.equal(doors, []);
});

bank('a door switch stuck at "closed" hides an opened door', async () => {
  const { locks, world, clock, doors } = await started();
  world.stickSwitch('A02', 'closed');
  const unlock = locks.pulse('A02');
  await advance(clock, 300);
  await unlock;
  assert.ok(world.open('A02'));
  await advance(clock, 1000);
  assert.equal(doors, []);
  assert.is((await locks.readDoors()).get('A02'), 'closed');
});

bank('a simulated person opens the door as soon as the latch releases', async () => {
  const { locks, world, clock, doors } = await started();
  world.onLatchReleased((compartment) => world.open(compartment));
  const unlock = locks.pulse('B04');
  await advance(clock, 500);
  await unlock;
  assert.equal(doors, [{ compartment: 'B04', door: 'open' }]);
});

bank('a latch not opened within 30 s engages again', async () => {
  const { locks, world, clock } = await started();
  const unlock = locks.pulse('A01');
  await advance(clock, 300);
  await unlock;
  await advance(clock, 30_000);
  assert.not.ok(world.open('A01'));
});

bank('a single NACK is absorbed by a retry: no status change, the door still reads', async () => {
  const { bus, clock, statuses } = await started();
  bus.resetTranscript();
  bus.injectFault(0x20, 'I2C_NACK', 1);
  await advance(clock, 150); // poll at +100 fails, the retry at +110 succeeds
  assert.equal(GPIO_READS(bus.lines()), [0x20, 0x21, 0x20]);
  assert.equal(statuses, []);
});

bank('a NACK storm: three tries, the board is reported failed, refuses pulses, and recovers with re-init', async () => {
  const { locks, bus, clock, statuses } = await started();
  bus.resetTranscript();
  bus.injectFault(0x20, 'I2C_NACK');
  await advance(clock, 150); // tries at +100, +110, +130
  assert.equal(bus.transcript.filter((t) => t.address === 0x20).map((t) => t.fault), ['I2C_NACK', 'I2C_NACK', 'I2C_NACK']);
  assert.equal(statuses, [{ board: 'B1', ok: false, compartments: B1_COMPARTMENTS, code: 'I2C_NACK' }]);
  assert.is(await rejectionCode(locks.pulse('A01')), 'BOARD_FAULT');
  assert.is(await rejectionCode(locks.pulse('A07')), 'BOARD_FAULT');
  bus.resetTranscript();
  await advance(clock, 500);
  assert.equal(GPIO_READS(bus.lines()), [0x21, 0x21, 0x21, 0x21, 0x21], 'B2 keeps polling undisturbed');
  bus.clearFaults();
  bus.resetTranscript();
  await advance(clock, 600);
  assert.equal(statuses.at(-1), { board: 'B1', ok: true, compartments: B1_COMPARTMENTS });
  assert.equal(bus.lines().filter(([, address]) => address === 0x20).slice(0, 2), [
    ['w', 0x20, 0x05, [0x00]],
    ['w', 0x20, 0x0a, [0x00]],
  ]);
  const unlock = locks.pulse('A01');
  await advance(clock, 300);
  await unlock;
});

bank('a failing board backs off further on every failed recovery', async () => {
  const { locks, bus, clock } = await started();
  bus.injectFault(0x21, 'I2C_TIMEOUT');
  await advance(clock, 150);
  assert.equal(locks.health('B2'), { ok: false, code: 'I2C_TIMEOUT', retryInMs: 1000 });
  await advance(clock, 1100); // re-init tried at +1130, failed at +1160
  assert.equal(locks.health('B2'), { ok: false, code: 'I2C_TIMEOUT', retryInMs: 2000 });
  await advance(clock, 2000);
  assert.equal(locks.health('B2'), { ok: false, code: 'I2C_TIMEOUT', retryInMs: 4000 });
});

bank('a board missing at start is reported BOARD_MISSING; plugged in, it comes up', async () => {
  const clock = newClock();
  const sim = createSimulatedLockBank(demoLayout(14), clock);
  const bus = sim.buses.get(1)!;
  const chip = sim.chips.get('B2')!;
  bus.detach(0x21);
  const statuses: BoardStatusEvent[] = [];
  sim.locks.onBoardStatus((e) => statuses.push(e));
  const starting = sim.locks.start();
  await advance(clock, 50); // its retries wait on the clock
  await starting;
  assert.equal(statuses.map((s) => [s.board, s.ok, s.code]), [['B2', false, 'BOARD_MISSING']]);
  assert.is((await sim.locks.readDoors()).size, 7);
  bus.attach(chip);
  await advance(clock, 1000);
  assert.equal(statuses.map((s) => [s.board, s.ok]), [['B2', false], ['B2', true]]);
  assert.is((await sim.locks.readDoors()).size, 14);
});

bank('a release that fails leaves the board failed, and its recovery releases the lock', async () => {
  const { locks, bus, world, clock } = await started();
  const unlock = rejectionCode(locks.pulse('A04'));
  await advance(clock, 10);
  assert.ok(world.view('A04').energised);
  bus.injectFault(0x20, 'I2C_NACK');
  await advance(clock, 350); // release tried at +300, +310, +330
  assert.is(await unlock, 'I2C_NACK');
  assert.ok(world.view('A04').energised, 'the chip never heard the release');
  assert.is(locks.health('B1')?.ok, false);
  bus.clearFaults();
  await advance(clock, 1000);
  assert.not.ok(world.view('A04').energised);
  assert.is(locks.health('B1')?.ok, true);
});

bank('close releases a lock in mid-pulse, stops polling and refuses further pulses', async () => {
  const { locks, bus, world, clock } = await started();
  void locks.pulse('A06').catch(() => undefined);
  await advance(clock, 50);
  await locks.close();
  assert.not.ok(world.view('A06').energised);
  const transfers = bus.transcript.length;
  await advance(clock, 1000);
  assert.is(bus.transcript.length, transfers);
  assert.is(await rejectionCode(locks.pulse('A01')), 'LOCKS_NOT_RUNNING');
});

bank('unknown compartments are refused', async () => {
  const { locks } = await started();
  assert.is(await rejectionCode(locks.pulse('Z99')), 'UNKNOWN_COMPARTMENT');
});

bank('a PCF8574 bank at 400 kHz is refused before any I/O', () => {
  const layout = { boards: [{ id: 'P1', kind: 'pcf8574' as const, bus: 1, address: 0x20 }], compartments: [] };
  assert.throws(() => createSimulatedLockBank(layout, newClock(), { busKHz: 400 }), /too fast/);
});

bank.run();
