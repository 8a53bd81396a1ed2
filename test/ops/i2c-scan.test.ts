import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { createSimulatedLockBank } from '../../drivers/i2c/lock-bank.js';
import { SimMcp23017 } from '../../drivers/i2c/sim/mcp23017.js';
import { demoLayout } from '../../drivers/layout.js';
import { formatScan, scanLayout } from '../../src/i2c-scan.js';

// `npm run i2c:scan` against the register-level simulation: which expanders answer on each bus,
// compared with the layout.

test('every board of the layout answers on the simulated bus', async () => {
  const layout = demoLayout(48);
  const bank = createSimulatedLockBank(layout, new SimulatedClock(0));
  const scans = await scanLayout(layout, async (bus) => bank.buses.get(bus)!);
  assert.is(scans.length, 1);
  assert.equal(scans[0]!.found, layout.boards.map((b) => b.address).sort((a, b) => a - b));
  assert.is(scans[0]!.missing.length, 0);
  assert.match(formatScan(scans), /every board of the layout answers$/);
});

test('a board that does not answer and a device the layout does not know are named', async () => {
  const layout = demoLayout(48);
  const bank = createSimulatedLockBank(layout, new SimulatedClock(0));
  const [gone, other] = [layout.boards[2]!, layout.boards[3]!];
  const bus = bank.buses.get(gone.bus)!;
  bus.detach(gone.address);
  // another board's jumpers set wrong: it answers at 0x27 instead of its own address
  bus.detach(other.address);
  bus.attach(new SimMcp23017(0x27));
  const scans = await scanLayout(layout, async (n) => bank.buses.get(n)!);
  assert.equal(scans[0]!.missing.map((b) => b.id).sort(), [gone.id, other.id].sort());
  assert.equal(scans[0]!.unexpected, [0x27]);
  const text = formatScan(scans);
  assert.match(text, new RegExp(`MISSING  ${gone.id} mcp23017 at 0x${gone.address.toString(16)} does not answer`));
  assert.match(text, /unknown  0x27 answers but is no board of the layout/);
  assert.match(text, /2 board\(s\) of the layout missing$/);
});

test('a bus that cannot be opened is reported, its boards missing', async () => {
  const layout = demoLayout(12);
  const scans = await scanLayout(layout, async (n) => {
    throw new Error(`ENOENT: no such file or directory, open '/dev/i2c-${n}'`);
  });
  assert.is(scans[0]!.missing.length, layout.boards.length);
  assert.match(formatScan(scans), /bus 1 \(\/dev\/i2c-1\): cannot scan: ENOENT/);
});

test.run();
