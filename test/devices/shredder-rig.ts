import { SimulatedClock } from '../../actors/runtime/clock.js';
import { createSimulatedLockBank, type SimulatedLockBank } from '../../drivers/i2c/lock-bank.js';
import { ExpanderShredder } from '../../drivers/i2c/shredder.js';
import { SimulatedShredderMechanism } from '../../drivers/i2c/sim/shredder.js';
import { validateLayout, type BoardKind, type Layout } from '../../drivers/layout.js';

export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Pins of the shredder on one board of each kind; the compartment A01 shares the board. */
export const SHREDDER_PINS: Record<BoardKind, { motor: number; reverse: number; flap: number; jam: number; binFull: number; lock: number; door: number }> = {
  mcp23017: { motor: 4, reverse: 5, flap: 6, jam: 12, binFull: 13, lock: 0, door: 8 },
  pcf8574: { motor: 4, reverse: 5, flap: 6, jam: 2, binFull: 3, lock: 0, door: 1 },
  pcf8574a: { motor: 4, reverse: 5, flap: 6, jam: 2, binFull: 3, lock: 0, door: 1 },
};
export const ADDRESS: Record<BoardKind, number> = { mcp23017: 0x20, pcf8574: 0x21, pcf8574a: 0x38 };

export interface ShredderRig {
  clock: SimulatedClock;
  layout: Layout;
  bank: SimulatedLockBank;
  mechanism: SimulatedShredderMechanism;
  shredder: ExpanderShredder;
}

/** One board of `kind` carrying compartment A01 and the shredder, polling out of the way unless asked. */
export async function shredderRig(kind: BoardKind, timing: Record<string, number> = {}, options: { pollMs?: number; binCapacity?: number } = {}): Promise<ShredderRig> {
  const clock = new SimulatedClock(Date.UTC(2026, 0, 5, 8, 0, 0));
  const p = SHREDDER_PINS[kind];
  const pin = (n: number) => ({ board: 'B1', pin: n });
  const layout = validateLayout({
    boards: [{ id: 'B1', kind, bus: 1, address: ADDRESS[kind] }],
    compartments: [{ id: 'A01', board: 'B1', lockPin: p.lock, doorPin: p.door, size: 'M', heightCm: 100 }],
    shredder: {
      motorPin: pin(p.motor), reversePin: pin(p.reverse), flapPin: pin(p.flap), jamPin: pin(p.jam), binFullPin: pin(p.binFull),
      shredMs: 200, pollMs: 100, flapMs: 50, reverseMs: 100, maxMotorMs: 1000, binCapacity: options.binCapacity ?? 200, ...timing,
    },
  });
  const bank = createSimulatedLockBank(layout, clock, { pollMs: options.pollMs ?? 3_600_000 });
  const mechanism = new SimulatedShredderMechanism(layout.devices!.shredder!, bank.world, clock, { cutMs: 150 });
  const shredder = new ExpanderShredder({ layout: layout.devices!.shredder!, gpio: bank.locks.gpio, clock });
  await bank.locks.start();
  return { clock, layout, bank, mechanism, shredder };
}
