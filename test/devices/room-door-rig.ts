import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { createSimulatedLockBank, type SimulatedLockBank } from '../../drivers/i2c/lock-bank.js';
import { ExpanderRoomDoor } from '../../drivers/i2c/room-door.js';
import { SimulatedRoomDoorMechanism } from '../../drivers/i2c/sim/room-door.js';
import { demoLayout, validateLayout, type BoardKind, type Layout } from '../../drivers/layout.js';
import { createBox, type Box, type CreateBoxOptions } from '../../src/box.js';
import { BIRTH, PHONE } from '../helpers.js';

// What the device tests share: the room door on one board of each kind, a box on the
// register-level simulation, a READY pickup, and the check of a refused layout.

export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Monday 23 Nov 2026, 20:00 in Düsseldorf: the office has closed. */
export const MONDAY_8PM = Date.UTC(2026, 10, 23, 19, 0, 0);

/** The room door of the box tests: strike on GPA7 (output only), contact on GPB6 of the demo board B1. */
export const ROOM_DOOR = { lockPin: { board: 'B1', pin: 7 }, contactPin: { board: 'B1', pin: 14 }, panel: 'door', openMs: 5000, heldOpenMs: 30_000 };

/** The demo layout of `compartments` compartments on board B1, with the room door and anything else given. */
export function roomLayout(roomDoor: Record<string, unknown> = {}, compartments = 6, extra: Record<string, unknown> = {}) {
  const l = demoLayout(compartments);
  return { boards: l.boards, compartments: l.compartments, roomDoor: { ...ROOM_DOOR, ...roomDoor }, ...extra };
}

/** A box with the room door on the register-level simulation; the box inside runs 24/7. */
export function simulatedBox(layout: unknown, at: number, options: CreateBoxOptions = {}): Promise<Box> {
  return createBox({ storage: 'memory:', layout, hardware: 'i2c-sim', hoursPreset: 'always' }, { clock: new SimulatedClock(at), ...options });
}

/** Registers, loads and closes a pickup: READY, with the PIN from the simulated SMS. */
export async function readyPickupOnPins(box: Box, reference: string): Promise<{ pin: string; compartmentId: string }> {
  await box.registerPickup({ reference, documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH });
  const { compartmentId } = await box.loadPickup(reference, 'staff-anna');
  await box.advance(400);
  assert.ok(box.simulation.openDoor(compartmentId));
  await box.advance(300);
  box.simulation.closeDoor(compartmentId);
  await box.advance(300);
  return { pin: /PIN: (\d{6})/.exec(box.simulation.smsSent().at(-1)!.text)![1]!, compartmentId };
}

/** The stable code a promise is refused with, or `accepted`. */
export async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'accepted';
}

export { assertLayoutRefused } from '../i2c/helpers.js';

/** Strike and contact pins of the room door on one board of each kind; compartment A01 shares the board. */
export const ROOM_DOOR_PINS: Record<BoardKind, { strike: number; contact: number; lock: number; door: number }> = {
  mcp23017: { strike: 3, contact: 11, lock: 0, door: 8 },
  pcf8574: { strike: 3, contact: 5, lock: 0, door: 1 },
  pcf8574a: { strike: 3, contact: 5, lock: 0, door: 1 },
};
export const ROOM_DOOR_ADDRESS: Record<BoardKind, number> = { mcp23017: 0x20, pcf8574: 0x21, pcf8574a: 0x38 };

export interface RoomDoorRig {
  clock: SimulatedClock;
  layout: Layout;
  bank: SimulatedLockBank;
  mechanism: SimulatedRoomDoorMechanism;
  door: ExpanderRoomDoor;
}

/** One board of `kind` carrying compartment A01 and the room door, its door poll every `pollMs`. */
export async function roomDoorRig(kind: BoardKind, pollMs = 100, beforeStart: (mechanism: SimulatedRoomDoorMechanism, door: ExpanderRoomDoor) => void = () => {}): Promise<RoomDoorRig> {
  const clock = new SimulatedClock(MONDAY_8PM);
  const p = ROOM_DOOR_PINS[kind];
  const layout = validateLayout({
    boards: [{ id: 'B1', kind, bus: 1, address: ROOM_DOOR_ADDRESS[kind] }],
    compartments: [{ id: 'A01', board: 'B1', lockPin: p.lock, doorPin: p.door, size: 'M', heightCm: 100 }],
    roomDoor: { lockPin: { board: 'B1', pin: p.strike }, contactPin: { board: 'B1', pin: p.contact } },
  });
  const bank = createSimulatedLockBank(layout, clock, { pollMs });
  const mechanism = new SimulatedRoomDoorMechanism(layout.devices!.roomDoor!, bank.world, () => clock.now());
  const door = new ExpanderRoomDoor(layout.devices!.roomDoor!, bank.locks.gpio);
  beforeStart(mechanism, door);
  await bank.locks.start();
  return { clock, layout, bank, mechanism, door };
}
