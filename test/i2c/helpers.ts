import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { LayoutError, validateLayout, type BoardKind, type Layout } from '../../drivers/layout.js';
import { I2cBusQueue } from '../../drivers/i2c/bus-queue.js';
import { DEFAULT_DEBOUNCE, type DebounceOptions } from '../../drivers/i2c/debounce.js';
import { createExpanderChip } from '../../drivers/i2c/lock-bank.js';
import { LockBoard, pinMask, type ExpanderChip } from '../../drivers/i2c/lock-board.js';
import { DEFAULT_RETRY } from '../../drivers/i2c/retry.js';
import { SimulatedI2cBus } from '../../drivers/i2c/sim/bus.js';
import type { SimPinChip } from '../../drivers/i2c/sim/device.js';
import { SimMcp23017 } from '../../drivers/i2c/sim/mcp23017.js';
import { SimPcf8574 } from '../../drivers/i2c/sim/pcf8574.js';
import { SimulatedWorld } from '../../drivers/i2c/sim/world.js';

/** Asserts that validation refuses the layout with this code and a message matching `message`. */
export function assertLayoutRefused(layout: unknown, code: string, message: RegExp): void {
  try {
    validateLayout(layout);
  } catch (err) {
    assert.instance(err, LayoutError);
    assert.is((err as LayoutError).code, code);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable('layout was accepted');
}

/** Lets every promise chain started so far run to its next wait on the clock. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Advances simulated time, letting bus work between timers finish. */
export function advance(clock: SimulatedClock, ms: number): Promise<void> {
  return clock.advance(ms, settle);
}

/** A rejection's DriverError/LayoutError code, or a failure if it resolved. */
export async function rejectionCode(work: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof work === 'function' ? work() : work);
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  throw new Error('expected a rejection');
}

export const newClock = (): SimulatedClock => new SimulatedClock(Date.UTC(2026, 0, 5, 8, 0, 0));

export const BOARD_ADDRESS: Record<BoardKind, number> = { mcp23017: 0x20, pcf8574: 0x21, pcf8574a: 0x38 };

/**
 * Pins of the two test compartments. On the MCP23017 A02 crosses the ports (lock on GPB2, door
 * on GPA2) so that both OLAT registers and both GPIO ports are exercised.
 */
export const RIG_PINS: Record<BoardKind, { A01: [lock: number, door: number]; A02: [lock: number, door: number] }> = {
  mcp23017: { A01: [0, 8], A02: [10, 2] },
  pcf8574: { A01: [0, 4], A02: [1, 5] },
  pcf8574a: { A01: [0, 4], A02: [1, 5] },
};

export interface BoardRig {
  clock: SimulatedClock;
  layout: Layout;
  bus: SimulatedI2cBus;
  simChip: SimPinChip;
  chip: ExpanderChip;
  world: SimulatedWorld;
  board: LockBoard;
}

/** One board of `kind` with compartments A01 and A02 on a simulated bus and world. */
export function boardRig(kind: BoardKind, options: { debounce?: DebounceOptions; lock?: Record<string, number> } = {}): BoardRig {
  const clock = newClock();
  const address = BOARD_ADDRESS[kind];
  const pins = RIG_PINS[kind];
  const layout = validateLayout({
    boards: [{ id: 'B1', kind, bus: 1, address }],
    compartments: (['A01', 'A02'] as const).map((id) => ({
      id, board: 'B1', lockPin: pins[id][0], doorPin: pins[id][1], size: 'M', heightCm: 100, lock: options.lock,
    })),
  });
  const bus = new SimulatedI2cBus(clock, { kHz: 100 });
  const simChip = kind === 'mcp23017' ? new SimMcp23017(address) : new SimPcf8574(address);
  bus.attach(simChip);
  const world = new SimulatedWorld(layout, clock);
  world.attach('B1', simChip);
  const compartments = layout.compartments.map((c) => ({ compartment: c.id, lockPin: c.lockPin, doorPin: c.doorPin, timing: c.lock }));
  const chip = createExpanderChip(layout.boards[0]!, {
    locks: pinMask(compartments.map((c) => c.lockPin)),
    doors: pinMask(compartments.map((c) => c.doorPin)),
  });
  const board = new LockBoard({
    id: 'B1', chip, bus: new I2cBusQueue(1, bus), clock, compartments,
    debounce: options.debounce ?? DEFAULT_DEBOUNCE, retry: DEFAULT_RETRY,
  });
  return { clock, layout, bus, simChip, chip, world, board };
}
