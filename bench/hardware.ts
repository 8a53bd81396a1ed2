/**
 * Bus cost of the lock-board drivers on the simulated bus: transfers and bus time per unlock and
 * per full door poll, for a 48- and a 608-compartment box at 100 and 400 kHz, against the physical
 * minimum from the timing facts (an unlock = two register writes, a poll = one two-register read
 * per board). Run: npx tsx bench/hardware.ts (the detailed table), or through `npm run bench`
 * (`run()` gives the rows of the combined table).
 */
import { pathToFileURL } from 'node:url';
import { SimulatedClock } from '../actors/runtime/clock.js';
import { createSimulatedLockBank } from '../drivers/i2c/lock-bank.js';
import type { SimulatedI2cBus } from '../drivers/i2c/sim/bus.js';
import { clocksToMicros, REGISTER_WRITE_CLOCKS, TWO_REGISTER_READ_CLOCKS } from '../drivers/i2c/sim/timing.js';
import { demoLayout } from '../drivers/layout.js';
import { row as resultRow, type BenchContext, type Row } from './lib.js';

const POLL_MS = 100;
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface Cost {
  transfers: number;
  clocks: number;
  /** summed over all buses */
  busUs: number;
  /** the busiest bus: buses run in parallel, so this is the wall time */
  wallUs: number;
}

function cost(buses: Iterable<SimulatedI2cBus>): Cost {
  const c: Cost = { transfers: 0, clocks: 0, busUs: 0, wallUs: 0 };
  for (const bus of buses) {
    c.transfers += bus.transcript.length;
    c.clocks += bus.transcript.reduce((sum, t) => sum + t.clocks, 0);
    c.busUs += bus.busTimeUs;
    c.wallUs = Math.max(c.wallUs, bus.busTimeUs);
  }
  return c;
}

export interface HardwareMeasurement {
  boards: number;
  buses: number;
  unlock: Cost;
  poll: Cost;
}

export async function measure(compartments: number, busKHz: number): Promise<HardwareMeasurement> {
  const layout = demoLayout(compartments);

  // Unlock, with polling out of the way so that only the unlock's transfers count.
  const quietClock = new SimulatedClock();
  const quiet = createSimulatedLockBank(layout, quietClock, { busKHz, pollMs: 3_600_000 });
  await quiet.locks.start();
  for (const bus of quiet.buses.values()) bus.resetTranscript();
  const unlock = quiet.locks.pulse(layout.compartments[0]!.id);
  await quietClock.advance(layout.compartments[0]!.lock.pulseMs, settle);
  await unlock;
  const unlockCost = cost(quiet.buses.values());
  await quiet.locks.close();

  // One full poll round: every board is due once per period.
  const clock = new SimulatedClock();
  const box = createSimulatedLockBank(layout, clock, { busKHz, pollMs: POLL_MS });
  await box.locks.start();
  await clock.advance(POLL_MS / 2, settle);
  for (const bus of box.buses.values()) bus.resetTranscript();
  await clock.advance(POLL_MS, settle);
  const pollCost = cost(box.buses.values());
  await box.locks.close();

  return { boards: layout.boards.length, buses: box.buses.size, unlock: unlockCost, poll: pollCost };
}

/** Rows of the combined table: the driver's bus cost against the physical minimum. */
export async function run(_ctx?: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [compartments, kHz] of [[48, 100], [608, 100], [608, 400]] as const) {
    const m = await measure(compartments, kHz);
    const minUnlockMs = clocksToMicros(2 * REGISTER_WRITE_CLOCKS, kHz) / 1000;
    const minPollMs = clocksToMicros(m.boards * TWO_REGISTER_READ_CLOCKS, kHz) / 1000;
    const B = `hardware: ${compartments} compartments, ${m.boards} MCP23017 on ${m.buses} bus(es), ${kHz} kHz`;
    const where = 'simulated bus transcript (register-accurate timing)';
    if (compartments === 48 || kHz === 100) {
      rows.push(resultRow(B, 'unlock: bus transactions', m.unlock.transfers, 'transfers', 'minimum (energise + release writes)', 2, where));
    }
    rows.push(resultRow(B, 'unlock: bus time', m.unlock.busUs / 1000, 'ms', 'minimum: 2 register writes', minUnlockMs, 'OLAT shadow written as whole bytes; no read-modify-write'));
    if (compartments === 48 || kHz === 100) {
      rows.push(resultRow(B, 'full poll: bus transactions', m.poll.transfers, 'transfers', 'minimum: one per board', m.boards, 'sequential mode: GPIOA+GPIOB in one read'));
    }
    rows.push(resultRow(B, 'full poll: bus time, all buses', m.poll.busUs / 1000, 'ms', 'minimum: one 2-register read per board', minPollMs,
      `buses run in parallel: busiest bus ${(m.poll.wallUs / 1000).toFixed(2)} ms = ${((m.poll.wallUs / 1000 / POLL_MS) * 100).toFixed(1)} % of the ${POLL_MS} ms poll period`));
  }
  return rows;
}

async function printTable(): Promise<void> {
  const ms = (us: number): string => (us / 1000).toFixed(3).padStart(8);
  const row = (cells: Array<string | number>): string => cells.map((c, i) => (i === 0 ? String(c).padEnd(26) : String(c).padStart(10))).join(' ');

  console.log(row(['', 'transfers', 'clocks', 'bus ms', 'wall ms', 'min clocks', 'min ms', 'ratio']));
  for (const compartments of [48, 608]) {
    for (const kHz of [100, 400]) {
      const m = await measure(compartments, kHz);
      const minUnlock = 2 * REGISTER_WRITE_CLOCKS;
      const minPoll = m.boards * TWO_REGISTER_READ_CLOCKS;
      console.log(`\n${compartments} compartments, ${m.boards} MCP23017 on ${m.buses} bus(es), ${kHz} kHz`);
      for (const [label, c, min] of [['unlock (energise+release)', m.unlock, minUnlock], ['full poll of all boards', m.poll, minPoll]] as const) {
        console.log(row([label, c.transfers, c.clocks, ms(c.busUs), ms(c.wallUs), min, ms(clocksToMicros(min, kHz)), (c.clocks / min).toFixed(2)]));
      }
      const load = (m.poll.wallUs / 1000 / POLL_MS) * 100;
      console.log(row([`poll every ${POLL_MS} ms: busiest bus ${load.toFixed(1)} % occupied`]));
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await printTable();
