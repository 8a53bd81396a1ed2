/**
 * The box layout as configuration: which expander boards sit on which I2C bus at which address,
 * and for every compartment the board, lock pin, door pin, size and height. `validateLayout`
 * checks all of it before any I/O, so a wrong pin never reaches a chip.
 */

import { pinClaimer, validateDevices, type DeviceLayouts } from './device-layout.js';

export type BoardKind = 'mcp23017' | 'pcf8574' | 'pcf8574a';
export type CompartmentSize = 'S' | 'M' | 'L' | 'XL';

/** Facts of each expander chip the layout depends on (datasheets). */
export interface ChipSpec {
  firstAddress: number;
  lastAddress: number;
  pins: number;
  /** pins that only work as outputs (MCP23017 GPA7/GPB7) */
  outputOnlyPins: readonly number[];
  maxBusKHz: number;
}

export const CHIP_SPECS: Readonly<Record<BoardKind, ChipSpec>> = {
  mcp23017: { firstAddress: 0x20, lastAddress: 0x27, pins: 16, outputOnlyPins: [7, 15], maxBusKHz: 1700 },
  pcf8574: { firstAddress: 0x20, lastAddress: 0x27, pins: 8, outputOnlyPins: [], maxBusKHz: 100 },
  pcf8574a: { firstAddress: 0x38, lastAddress: 0x3f, pins: 8, outputOnlyPins: [], maxBusKHz: 100 },
};

export interface LockTiming {
  /** how long the solenoid is energised per unlock */
  pulseMs: number;
  /** the driver refuses any pulse longer than this (solenoids are pulsed, never held) */
  maxOnMs: number;
  /** minimum time from the end of one pulse to the start of the next */
  cooldownMs: number;
}

export const DEFAULT_LOCK_TIMING: LockTiming = { pulseMs: 300, maxOnMs: 1000, cooldownMs: 2000 };

/** Lock height range (cm) within reach from a wheelchair. */
export const WHEELCHAIR_REACH_CM = { min: 40, max: 120 } as const;

export interface BoardConfig {
  id: string;
  kind: BoardKind;
  bus: number;
  address: number;
}

export interface CompartmentConfig {
  id: string;
  board: string;
  lockPin: number;
  doorPin: number;
  size: CompartmentSize;
  /** height of the lock above the floor */
  heightCm: number;
  /** reachable from a wheelchair: given explicitly, or derived from the height */
  accessible: boolean;
  lock: LockTiming;
}

export interface Layout {
  boards: BoardConfig[];
  compartments: CompartmentConfig[];
  /** the devices beside the compartments (reader, …); null where the layout names none */
  devices?: DeviceLayouts;
}

export type LayoutErrorCode =
  | 'LAYOUT_MALFORMED'
  | 'BOARD_ID_DUPLICATE'
  | 'BOARD_KIND_UNKNOWN'
  | 'BOARD_BUS_INVALID'
  | 'BOARD_ADDRESS_OUT_OF_RANGE'
  | 'BOARD_ADDRESS_DUPLICATE'
  | 'COMPARTMENT_ID_INVALID'
  | 'COMPARTMENT_ID_DUPLICATE'
  | 'COMPARTMENT_BOARD_UNKNOWN'
  | 'PIN_OUT_OF_RANGE'
  | 'PIN_CONFLICT'
  | 'DOOR_ON_OUTPUT_ONLY_PIN'
  | 'SIZE_INVALID'
  | 'HEIGHT_INVALID'
  | 'LOCK_TIMING_INVALID'
  | 'BUS_TOO_FAST'
  | 'DEVICE_BOARD_UNKNOWN'
  | 'INPUT_ON_OUTPUT_ONLY_PIN'
  | 'READER_SERIAL_INVALID'
  | 'READER_PROTOCOL_INVALID'
  | 'SHREDDER_TIMING_INVALID'
  | 'HEADPHONES_INVALID'
  | 'ROOM_DOOR_INVALID';

/** A layout refused before any I/O, with a stable code and a message naming the exact problem. */
export class LayoutError extends Error {
  constructor(
    readonly code: LayoutErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LayoutError';
  }
}

const SIZES: readonly CompartmentSize[] = ['S', 'M', 'L', 'XL'];
/** A compartment id: column letters and a row number, like A07 or AB12. */
export const COMPARTMENT_ID = /^[A-Z]{1,3}[0-9]{1,3}$/;
const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** Name of a pin as printed on the chip (GPA0…GPB7, P0…P7). */
export function pinName(kind: BoardKind, pin: number): string {
  if (kind !== 'mcp23017') return `P${pin}`;
  return `${pin < 8 ? 'GPA' : 'GPB'}${pin % 8}`;
}

/** Checks a layout from configuration; returns it typed and completed, or throws LayoutError. */
export function validateLayout(input: unknown): Layout {
  const root = record(input, 'layout');
  const boardsIn = list(root.boards, 'layout.boards');
  const compartmentsIn = list(root.compartments, 'layout.compartments');

  const boards = new Map<string, BoardConfig>();
  const addressOwner = new Map<string, string>();
  boardsIn.forEach((raw, i) => {
    const b = record(raw, `layout.boards[${i}]`);
    const id = text(b.id, `layout.boards[${i}].id`);
    if (boards.has(id)) throw new LayoutError('BOARD_ID_DUPLICATE', `board id ${id} is used twice`);
    const kind = b.kind;
    if (kind !== 'mcp23017' && kind !== 'pcf8574' && kind !== 'pcf8574a') {
      throw new LayoutError('BOARD_KIND_UNKNOWN', `board ${id}: kind ${JSON.stringify(kind)} is not mcp23017, pcf8574 or pcf8574a`);
    }
    const bus = b.bus;
    if (!Number.isInteger(bus) || (bus as number) < 0) {
      throw new LayoutError('BOARD_BUS_INVALID', `board ${id}: bus ${JSON.stringify(bus)} is not a bus number (0, 1, …)`);
    }
    const spec = CHIP_SPECS[kind];
    const address = b.address;
    if (!Number.isInteger(address) || (address as number) < spec.firstAddress || (address as number) > spec.lastAddress) {
      const shown = typeof address === 'number' ? hex(address) : JSON.stringify(address);
      throw new LayoutError(
        'BOARD_ADDRESS_OUT_OF_RANGE',
        `board ${id}: address ${shown} is outside ${hex(spec.firstAddress)}–${hex(spec.lastAddress)} of a ${kind}`,
      );
    }
    const slot = `${bus}:${address}`;
    const other = addressOwner.get(slot);
    if (other) {
      throw new LayoutError('BOARD_ADDRESS_DUPLICATE', `boards ${other} and ${id} both use address ${hex(address as number)} on bus ${bus}`);
    }
    addressOwner.set(slot, id);
    boards.set(id, { id, kind, bus: bus as number, address: address as number });
  });

  const compartments: CompartmentConfig[] = [];
  const ids = new Set<string>();
  const pinOwner = new Map<string, string>();
  compartmentsIn.forEach((raw, i) => {
    const c = record(raw, `layout.compartments[${i}]`);
    const id = text(c.id, `layout.compartments[${i}].id`);
    if (!COMPARTMENT_ID.test(id)) {
      throw new LayoutError('COMPARTMENT_ID_INVALID', `compartment id ${JSON.stringify(id)} is not a column letter and row number like A07`);
    }
    if (ids.has(id)) throw new LayoutError('COMPARTMENT_ID_DUPLICATE', `compartment id ${id} is used twice`);
    ids.add(id);
    const boardId = text(c.board, `compartment ${id}: board`);
    const board = boards.get(boardId);
    if (!board) throw new LayoutError('COMPARTMENT_BOARD_UNKNOWN', `compartment ${id}: board ${boardId} is not in layout.boards`);
    const spec = CHIP_SPECS[board.kind];

    const usePin = (field: 'lockPin' | 'doorPin'): number => {
      const pin = c[field];
      const role = field === 'lockPin' ? 'lock' : 'door';
      if (!Number.isInteger(pin) || (pin as number) < 0 || (pin as number) >= spec.pins) {
        throw new LayoutError(
          'PIN_OUT_OF_RANGE',
          `compartment ${id}: ${role} pin ${JSON.stringify(pin)} is beyond the ${spec.pins} pins (0–${spec.pins - 1}) of ${board.kind} ${board.id}`,
        );
      }
      const p = pin as number;
      if (role === 'door' && spec.outputOnlyPins.includes(p)) {
        throw new LayoutError(
          'DOOR_ON_OUTPUT_ONLY_PIN',
          `compartment ${id}: door pin ${p} is ${pinName(board.kind, p)} of board ${board.id}, which is output-only; use GPA0–GPA6 or GPB0–GPB6 for door switches`,
        );
      }
      const key = `${board.id}:${p}`;
      const owner = pinOwner.get(key);
      if (owner) {
        throw new LayoutError('PIN_CONFLICT', `compartment ${id}: ${role} pin ${pinName(board.kind, p)} of board ${board.id} is already the ${owner}`);
      }
      pinOwner.set(key, `${role} pin of ${id}`);
      return p;
    };
    const lockPin = usePin('lockPin');
    const doorPin = usePin('doorPin');

    const size = c.size;
    if (typeof size !== 'string' || !SIZES.includes(size as CompartmentSize)) {
      throw new LayoutError('SIZE_INVALID', `compartment ${id}: size ${JSON.stringify(size)} is not one of ${SIZES.join(', ')}`);
    }
    const heightCm = c.heightCm;
    if (typeof heightCm !== 'number' || !Number.isFinite(heightCm) || heightCm < 0 || heightCm > 250) {
      throw new LayoutError('HEIGHT_INVALID', `compartment ${id}: heightCm ${JSON.stringify(heightCm)} is not a height between 0 and 250 cm`);
    }
    if (c.accessible !== undefined && typeof c.accessible !== 'boolean') {
      throw new LayoutError('LAYOUT_MALFORMED', `compartment ${id}: accessible must be true or false`);
    }
    const accessible = (c.accessible as boolean | undefined) ?? (heightCm >= WHEELCHAIR_REACH_CM.min && heightCm <= WHEELCHAIR_REACH_CM.max);
    compartments.push({ id, board: board.id, lockPin, doorPin, size: size as CompartmentSize, heightCm, accessible, lock: lockTiming(c.lock, id) });
  });

  const devices = validateDevices(root, pinClaimer(boards, pinOwner));
  return { boards: [...boards.values()], compartments, devices };
}

function lockTiming(input: unknown, id: string): LockTiming {
  if (input === undefined) return { ...DEFAULT_LOCK_TIMING };
  const t = record(input, `compartment ${id}: lock`);
  const timing = { ...DEFAULT_LOCK_TIMING };
  for (const key of ['pulseMs', 'maxOnMs', 'cooldownMs'] as const) {
    const v = t[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (key !== 'cooldownMs' && v === 0)) {
      throw new LayoutError('LOCK_TIMING_INVALID', `compartment ${id}: lock.${key} ${JSON.stringify(v)} is not a positive number of milliseconds`);
    }
    timing[key] = v;
  }
  if (timing.pulseMs > timing.maxOnMs) {
    throw new LayoutError('LOCK_TIMING_INVALID', `compartment ${id}: lock.pulseMs ${timing.pulseMs} exceeds lock.maxOnMs ${timing.maxOnMs}`);
  }
  return timing;
}

/** Refuses a bus clock faster than a chip on that bus supports (PCF8574: 100 kHz). */
export function checkBusSpeed(layout: Layout, bus: number, kHz: number): void {
  for (const board of layout.boards) {
    const max = CHIP_SPECS[board.kind].maxBusKHz;
    if (board.bus === bus && kHz > max) {
      throw new LayoutError('BUS_TOO_FAST', `bus ${bus} at ${kHz} kHz is too fast for ${board.kind} ${board.id} (max ${max} kHz)`);
    }
  }
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LayoutError('LAYOUT_MALFORMED', `${what} must be an object`);
  return v as Record<string, unknown>;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new LayoutError('LAYOUT_MALFORMED', `${what} must be a list`);
  return v;
}

function text(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new LayoutError('LAYOUT_MALFORMED', `${what} must be a non-empty string`);
  return v;
}

/** Compartments one MCP23017 carries: locks on GPA0–GPA6, doors on GPB0–GPB6; GPA7/GPB7 stay outputs. */
export const COMPARTMENTS_PER_MCP23017 = 7;
const ROWS_PER_COLUMN = 8;
/** Rows from the top: size and lock height; the middle rows are within wheelchair reach. */
const ROWS: ReadonlyArray<{ size: CompartmentSize; heightCm: number }> = [
  { size: 'S', heightCm: 180 },
  { size: 'S', heightCm: 165 },
  { size: 'M', heightCm: 148 },
  { size: 'M', heightCm: 128 },
  { size: 'M', heightCm: 108 },
  { size: 'L', heightCm: 85 },
  { size: 'L', heightCm: 60 },
  { size: 'XL', heightCm: 30 },
];

/** Column label in bijective base 26: A…Z, AA, AB, … */
/** Spreadsheet-style labels: A…Z, then AA, AB… */
export function columnLabel(index: number): string {
  let label = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) label = String.fromCharCode(65 + ((n - 1) % 26)) + label;
  return label;
}

/**
 * A realistic layout of `n` compartments: columns of 8 (A01…A08, B01…), small at the top,
 * XL at the bottom, the rows at 60–108 cm accessible. Seven compartments per MCP23017; eight
 * boards (0x20–0x27) per bus, starting on bus 1, so up to 56 compartments stay on bus 1.
 */
export function demoLayout(n: number): Layout {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`demoLayout needs a positive number of compartments, got ${n}`);
  const boardCount = Math.ceil(n / COMPARTMENTS_PER_MCP23017);
  const boards = Array.from({ length: boardCount }, (_, i) => ({
    id: `B${i + 1}`,
    kind: 'mcp23017',
    bus: 1 + Math.floor(i / 8),
    address: 0x20 + (i % 8),
  }));
  const compartments = Array.from({ length: n }, (_, k) => {
    const row = ROWS[k % ROWS_PER_COLUMN]!;
    const slot = k % COMPARTMENTS_PER_MCP23017;
    return {
      id: `${columnLabel(Math.floor(k / ROWS_PER_COLUMN))}${String((k % ROWS_PER_COLUMN) + 1).padStart(2, '0')}`,
      board: `B${Math.floor(k / COMPARTMENTS_PER_MCP23017) + 1}`,
      lockPin: slot,
      doorPin: 8 + slot,
      size: row.size,
      heightCm: row.heightCm,
    };
  });
  return validateLayout({ boards, compartments });
}
