/**
 * Bus time the shredder on expander pins costs, on the register-accurate simulated bus at 100 kHz:
 * - a full door poll of a 45-compartment box (7 MCP23017) without a shredder, with the shredder on
 *   free pins of a lock board (its switches come with that board's poll), and on a board of its
 *   own (one more two-register read), against the minimum of one two-register read per board;
 * - one shredded card (switch check, flap, motor, the jam reads while it runs) against the minimum
 *   of one switch read and four latch writes.
 * Run: npx tsx bench/shredder.ts, or through `npm run bench -- shredder`.
 */
import { pathToFileURL } from 'node:url';
import { SimulatedClock } from '../actors/runtime/clock.js';
import { createSimulatedLockBank } from '../drivers/i2c/lock-bank.js';
import { ExpanderShredder } from '../drivers/i2c/shredder.js';
import { SimulatedShredderMechanism } from '../drivers/i2c/sim/shredder.js';
import { clocksToMicros, REGISTER_WRITE_CLOCKS, TWO_REGISTER_READ_CLOCKS } from '../drivers/i2c/sim/timing.js';
import { demoLayout, validateLayout, type Layout } from '../drivers/layout.js';
import { row, type BenchContext, type Row } from './lib.js';

const POLL_MS = 100;
const KHZ = 100;
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Placement = 'none' | 'lock board' | 'own board';

/** 45 compartments leave GPA3–GPA6 and GPB3–GPB6 of the seventh board free. */
function layoutWith(placement: Placement): Layout {
  const base = demoLayout(45);
  const last = base.boards.at(-1)!;
  const boards: unknown[] = [...base.boards];
  let board = last.id;
  if (placement === 'own board') {
    boards.push({ id: 'SHR', kind: 'mcp23017', bus: last.bus, address: last.address + 1 });
    board = 'SHR';
  }
  const pin = (n: number) => ({ board, pin: n });
  const shredder = placement === 'none' ? undefined : { motorPin: pin(3), reversePin: pin(4), flapPin: pin(5), jamPin: pin(11), binFullPin: pin(12) };
  return validateLayout({ boards, compartments: base.compartments, ...(shredder ? { shredder } : {}) });
}

export interface ShredderBusCost {
  boards: number;
  pollTransfers: number;
  pollMs: number;
  shredTransfers?: number;
  shredMs?: number;
}

export async function measure(placement: Placement): Promise<ShredderBusCost> {
  const layout = layoutWith(placement);
  const clock = new SimulatedClock();
  const bank = createSimulatedLockBank(layout, clock, { busKHz: KHZ, pollMs: POLL_MS });
  const mechanism = layout.devices?.shredder ? new SimulatedShredderMechanism(layout.devices.shredder, bank.world, clock) : null;
  const shredder = layout.devices?.shredder ? new ExpanderShredder({ layout: layout.devices.shredder, gpio: bank.locks.gpio, clock }) : null;
  await bank.locks.start();
  await clock.advance(POLL_MS / 2, settle);
  const bus = [...bank.buses.values()][0]!;
  bus.resetTranscript();
  await clock.advance(POLL_MS, settle);
  const result: ShredderBusCost = { boards: layout.boards.length, pollTransfers: bus.transcript.length, pollMs: bus.busTimeUs / 1000 };
  await bank.locks.close();

  if (shredder && mechanism) {
    // One card, with door polling out of the way so that only the shredder's transfers count.
    const quietClock = new SimulatedClock();
    const quiet = createSimulatedLockBank(layout, quietClock, { busKHz: KHZ, pollMs: 3_600_000 });
    const m = new SimulatedShredderMechanism(layout.devices!.shredder!, quiet.world, quietClock);
    const s = new ExpanderShredder({ layout: layout.devices!.shredder!, gpio: quiet.locks.gpio, clock: quietClock });
    await quiet.locks.start();
    const qbus = [...quiet.buses.values()][0]!;
    qbus.resetTranscript();
    m.feed.push({ mrz: ['BENCH'] });
    const done = s.shred();
    await quietClock.advance(10_000, settle);
    const r = await done;
    if (!r.ok) throw new Error(`bench shred failed: ${r.code}`);
    result.shredTransfers = qbus.transcript.length;
    result.shredMs = qbus.busTimeUs / 1000;
    await quiet.locks.close();
  }
  return result;
}

export async function run(_ctx?: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  const none = await measure('none');
  for (const placement of ['none', 'lock board', 'own board'] as const) {
    const m = placement === 'none' ? none : await measure(placement);
    const minMs = clocksToMicros(m.boards * TWO_REGISTER_READ_CLOCKS, KHZ) / 1000;
    const B = `shredder: 45 compartments, ${KHZ} kHz, shredder ${placement === 'none' ? 'absent' : `on ${placement === 'lock board' ? 'free pins of a lock board' : 'a board of its own'}`}`;
    rows.push(row(B, 'full poll: bus time', m.pollMs, 'ms', `minimum: one 2-register read per board (${m.boards})`, minMs,
      `+${(m.pollMs - none.pollMs).toFixed(2)} ms over the box without a shredder; ${m.pollTransfers} transfers per ${POLL_MS} ms poll`));
    if (m.shredTransfers !== undefined) {
      const minShredMs = clocksToMicros(TWO_REGISTER_READ_CLOCKS + 4 * REGISTER_WRITE_CLOCKS, KHZ) / 1000;
      rows.push(row(B, 'one card: bus time', m.shredMs!, 'ms', 'minimum: 1 switch read + flap on/off + motor on/off', minShredMs,
        `${m.shredTransfers} transfers: the jam switch is read every 50 ms while the motor runs 4 s`));
    }
  }
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) console.log(`${r.benchmark} | ${r.figure}: ${r.value.toFixed(3)} ${r.unit} vs ${r.baselineValue.toFixed(3)} (${r.ratio.toFixed(2)}×) — ${r.notes}`);
}
