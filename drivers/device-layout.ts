/**
 * The devices of a box beside its compartments, as layout entries: the old-ID reader on a serial
 * line (with optional eject/retain pins) and the shredder on pins of the expander boards. Each pin a device uses is claimed on its board, so a
 * pin serves one purpose only; every check runs before any I/O, with a stable code.
 */
import type { BoardConfig } from './layout.js';
import { CHIP_SPECS, LayoutError, pinName } from './layout.js';
import { DEFAULT_MRZ_PROTOCOL, type MrzReaderProtocol } from './serial/mrz-reader.js';
import { DEFAULT_SERIAL, type SerialSettings } from './serial/port.js';

/** A pin of one of the layout's boards. */
export interface BoardPin {
  board: string;
  pin: number;
}

export interface ReaderLayout {
  serial: SerialSettings;
  protocol: MrzReaderProtocol;
  readTimeoutMs: number;
  reconnectMs: number;
  /** eject/retain by pulsing these outputs instead of reader commands */
  gpio: { eject: BoardPin; retain: BoardPin; pulseMs: number } | null;
}

export interface ShredderTiming {
  /** how long the flap opens to let the card drop into the cutters */
  flapMs: number;
  /** how long the motor runs forward per card */
  shredMs: number;
  /** the driver never lets the motor run longer than this in one go (relay and motor protection) */
  maxMotorMs: number;
  /** the reverse pulse that frees the cutters after a jam */
  reverseMs: number;
  /** how often the jam input is read while the motor runs */
  pollMs: number;
}

export const DEFAULT_SHREDDER_TIMING: ShredderTiming = { flapMs: 300, shredMs: 4000, maxMotorMs: 8000, reverseMs: 500, pollMs: 50 };

export interface ShredderLayout {
  /** motor relay (output, energised = running) */
  motor: BoardPin;
  /** direction relay (output, energised = reverse) */
  reverse: BoardPin;
  /** card slot flap solenoid (output, energised = open) */
  flap: BoardPin;
  /** jam switch (input, closes to ground when the cutters stall) */
  jam: BoardPin;
  /** bin-full switch (input, closes to ground when the bin is full) */
  binFull: BoardPin;
  timing: ShredderTiming;
  binCapacity: number;
}

/** A panel's headphone jack: its switch contact on an input pin. */
export interface HeadphoneJackLayout {
  kiosk: string;
  jack: BoardPin;
  /** the level the contact gives with headphones in (jacks differ: a break or a make contact) */
  pluggedWhen: 'low' | 'high';
}

/** The after-hours room's door: an electric strike (rated for continuous duty) and a door contact. */
export interface RoomDoorLayout {
  /** strike output, energised = unlocked */
  lock: BoardPin;
  /** door contact input, closes to ground when the door is shut */
  contact: BoardPin;
  /** the outside panel (a kiosk id of kind `door`): number and PIN open the door after hours */
  panel: string;
  /** how long the door stays unlocked after a matching number and PIN */
  openMs: number;
  /** after hours, a door open longer than this raises an alarm */
  heldOpenMs: number;
  /**
   * when the room is open to everyone: `"duesseldorf"` or an opening-hours table (validated by the
   * box with the domain's rules); the kiosk inside usually runs 24/7 (`hoursPreset: "always"`)
   */
  hours: unknown;
}

export interface DeviceLayouts {
  reader: ReaderLayout | null;
  shredder: ShredderLayout | null;
  headphones: HeadphoneJackLayout[];
  roomDoor: RoomDoorLayout | null;
}

/** Every device pin of a layout, with its direction: what the lock bank configures beside the locks. */
export function devicePins(devices: DeviceLayouts | undefined): Array<BoardPin & { direction: 'input' | 'output' }> {
  const pins: Array<BoardPin & { direction: 'input' | 'output' }> = [];
  if (!devices) return pins;
  if (devices.reader?.gpio) pins.push({ ...devices.reader.gpio.eject, direction: 'output' }, { ...devices.reader.gpio.retain, direction: 'output' });
  const s = devices.shredder;
  if (s) {
    for (const pin of [s.motor, s.reverse, s.flap]) pins.push({ ...pin, direction: 'output' });
    for (const pin of [s.jam, s.binFull]) pins.push({ ...pin, direction: 'input' });
  }
  for (const h of devices.headphones) pins.push({ ...h.jack, direction: 'input' });
  if (devices.roomDoor) pins.push({ ...devices.roomDoor.lock, direction: 'output' }, { ...devices.roomDoor.contact, direction: 'input' });
  return pins;
}

/** Claims a pin on a board for one purpose; refuses a second claim with PIN_CONFLICT. */
export type PinClaim = (owner: string, field: string, value: unknown, direction: 'input' | 'output') => BoardPin;

const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];

/** Makes the claim function validateLayout uses for compartments and devices alike. */
export function pinClaimer(boards: ReadonlyMap<string, BoardConfig>, owners: Map<string, string>): PinClaim {
  return (owner, field, value, direction) => {
    const v = record(value, `${owner}: ${field}`);
    const boardId = v.board;
    const board = typeof boardId === 'string' ? boards.get(boardId) : undefined;
    if (!board) throw new LayoutError('DEVICE_BOARD_UNKNOWN', `${owner}: ${field}.board ${JSON.stringify(boardId)} is not in layout.boards`);
    const spec = CHIP_SPECS[board.kind];
    const pin = v.pin;
    if (!Number.isInteger(pin) || (pin as number) < 0 || (pin as number) >= spec.pins) {
      throw new LayoutError('PIN_OUT_OF_RANGE', `${owner}: ${field}.pin ${JSON.stringify(pin)} is beyond the ${spec.pins} pins (0–${spec.pins - 1}) of ${board.kind} ${board.id}`);
    }
    const p = pin as number;
    if (direction === 'input' && spec.outputOnlyPins.includes(p)) {
      throw new LayoutError('INPUT_ON_OUTPUT_ONLY_PIN', `${owner}: ${field} is ${pinName(board.kind, p)} of board ${board.id}, which is output-only; use GPA0–GPA6 or GPB0–GPB6 for inputs`);
    }
    const key = `${board.id}:${p}`;
    const other = owners.get(key);
    if (other) throw new LayoutError('PIN_CONFLICT', `${owner}: ${field} ${pinName(board.kind, p)} of board ${board.id} is already the ${other}`);
    owners.set(key, `${field} of ${owner}`);
    return { board: board.id, pin: p };
  };
}

/** Checks the device entries of a layout (`reader`); absent entries are null. */
export function validateDevices(root: Record<string, unknown>, claim: PinClaim): DeviceLayouts {
  return {
    reader: root.reader === undefined ? null : readerLayout(root.reader, claim),
    shredder: root.shredder === undefined ? null : shredderLayout(root.shredder, claim),
    headphones: root.headphones === undefined ? [] : headphoneLayouts(root.headphones, claim),
    roomDoor: root.roomDoor === undefined ? null : roomDoorLayout(root.roomDoor, claim),
  };
}

function roomDoorLayout(input: unknown, claim: PinClaim): RoomDoorLayout {
  const d = record(input, 'layout.roomDoor');
  const panel = d.panel ?? 'door';
  if (typeof panel !== 'string' || panel === '') throw new LayoutError('ROOM_DOOR_INVALID', `roomDoor: panel ${JSON.stringify(panel)} must be a kiosk id`);
  const openMs = milliseconds(d.openMs ?? 5000, 'roomDoor: openMs', 'ROOM_DOOR_INVALID');
  const heldOpenMs = milliseconds(d.heldOpenMs ?? 30_000, 'roomDoor: heldOpenMs', 'ROOM_DOOR_INVALID');
  if (openMs > 60_000) throw new LayoutError('ROOM_DOOR_INVALID', `roomDoor: openMs ${openMs} is over a minute; the door would stand unlocked too long`);
  return { lock: claim('roomDoor', 'lockPin', d.lockPin, 'output'), contact: claim('roomDoor', 'contactPin', d.contactPin, 'input'), panel, openMs, heldOpenMs, hours: d.hours ?? 'duesseldorf' };
}

function headphoneLayouts(input: unknown, claim: PinClaim): HeadphoneJackLayout[] {
  if (!Array.isArray(input)) throw new LayoutError('LAYOUT_MALFORMED', 'layout.headphones must be a list');
  const kiosks = new Set<string>();
  return input.map((raw, i) => {
    const h = record(raw, `layout.headphones[${i}]`);
    const kiosk = h.kiosk;
    if (typeof kiosk !== 'string' || kiosk === '') throw new LayoutError('HEADPHONES_INVALID', `headphones[${i}]: kiosk ${JSON.stringify(kiosk)} must be a panel id`);
    if (kiosks.has(kiosk)) throw new LayoutError('HEADPHONES_INVALID', `headphones: panel ${kiosk} has two jacks`);
    kiosks.add(kiosk);
    const pluggedWhen = h.pluggedWhen ?? 'low';
    if (pluggedWhen !== 'low' && pluggedWhen !== 'high') throw new LayoutError('HEADPHONES_INVALID', `headphones of panel ${kiosk}: pluggedWhen ${JSON.stringify(pluggedWhen)} is not low or high`);
    return { kiosk, jack: claim(`headphones of panel ${kiosk}`, 'jackPin', h.jackPin, 'input'), pluggedWhen };
  });
}

function shredderLayout(input: unknown, claim: PinClaim): ShredderLayout {
  const s = record(input, 'layout.shredder');
  const timing = { ...DEFAULT_SHREDDER_TIMING };
  for (const key of Object.keys(DEFAULT_SHREDDER_TIMING) as Array<keyof ShredderTiming>) {
    if (s[key] !== undefined) timing[key] = milliseconds(s[key], `shredder: ${key}`, 'SHREDDER_TIMING_INVALID');
  }
  if (timing.shredMs > timing.maxMotorMs || timing.reverseMs > timing.maxMotorMs) {
    throw new LayoutError('SHREDDER_TIMING_INVALID', `shredder: shredMs ${timing.shredMs} and reverseMs ${timing.reverseMs} must not exceed maxMotorMs ${timing.maxMotorMs}`);
  }
  const binCapacity = s.binCapacity ?? 200;
  if (!Number.isInteger(binCapacity) || (binCapacity as number) <= 0) {
    throw new LayoutError('SHREDDER_TIMING_INVALID', `shredder: binCapacity ${JSON.stringify(binCapacity)} is not a positive whole number of cards`);
  }
  return {
    motor: claim('shredder', 'motorPin', s.motorPin, 'output'),
    reverse: claim('shredder', 'reversePin', s.reversePin, 'output'),
    flap: claim('shredder', 'flapPin', s.flapPin, 'output'),
    jam: claim('shredder', 'jamPin', s.jamPin, 'input'),
    binFull: claim('shredder', 'binFullPin', s.binFullPin, 'input'),
    timing,
    binCapacity: binCapacity as number,
  };
}

function readerLayout(input: unknown, claim: PinClaim): ReaderLayout {
  const r = record(input, 'layout.reader');
  const path = r.path;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new LayoutError('READER_SERIAL_INVALID', `reader: path ${JSON.stringify(path)} is not a device path like /dev/ttyUSB0`);
  }
  const serial: SerialSettings = { ...DEFAULT_SERIAL, path };
  if (r.baudRate !== undefined) {
    if (!BAUD_RATES.includes(r.baudRate as number)) throw new LayoutError('READER_SERIAL_INVALID', `reader: baudRate ${JSON.stringify(r.baudRate)} is not one of ${BAUD_RATES.join(', ')}`);
    serial.baudRate = r.baudRate as number;
  }
  if (r.dataBits !== undefined) {
    if (r.dataBits !== 7 && r.dataBits !== 8) throw new LayoutError('READER_SERIAL_INVALID', `reader: dataBits ${JSON.stringify(r.dataBits)} is not 7 or 8`);
    serial.dataBits = r.dataBits;
  }
  if (r.parity !== undefined) {
    if (r.parity !== 'none' && r.parity !== 'even' && r.parity !== 'odd') throw new LayoutError('READER_SERIAL_INVALID', `reader: parity ${JSON.stringify(r.parity)} is not none, even or odd`);
    serial.parity = r.parity;
  }
  if (r.stopBits !== undefined) {
    if (r.stopBits !== 1 && r.stopBits !== 2) throw new LayoutError('READER_SERIAL_INVALID', `reader: stopBits ${JSON.stringify(r.stopBits)} is not 1 or 2`);
    serial.stopBits = r.stopBits;
  }

  const protocol: MrzReaderProtocol = { ...DEFAULT_MRZ_PROTOCOL, commands: { ...DEFAULT_MRZ_PROTOCOL.commands } };
  if (r.lineEnd !== undefined) {
    if (r.lineEnd !== 'CR' && r.lineEnd !== 'LF' && r.lineEnd !== 'CRLF') throw new LayoutError('READER_PROTOCOL_INVALID', `reader: lineEnd ${JSON.stringify(r.lineEnd)} is not CR, LF or CRLF`);
    protocol.lineEnd = r.lineEnd;
  }
  if (r.frame !== undefined && r.frame !== null) {
    const f = record(r.frame, 'reader.frame');
    protocol.frame = { start: protocolText(f.start, 'frame.start'), end: protocolText(f.end, 'frame.end') };
  }
  if (r.presentLine !== undefined && r.presentLine !== null) protocol.presentLine = protocolText(r.presentLine, 'presentLine');
  if (r.removedLine !== undefined && r.removedLine !== null) protocol.removedLine = protocolText(r.removedLine, 'removedLine');
  if (r.commands !== undefined) {
    const c = record(r.commands, 'reader.commands');
    for (const key of ['enable', 'disable', 'eject', 'retain'] as const) {
      if (c[key] !== undefined && c[key] !== null) protocol.commands[key] = protocolText(c[key], `commands.${key}`);
    }
  }

  let gpio: ReaderLayout['gpio'] = null;
  if (r.ejectPin !== undefined || r.retainPin !== undefined) {
    gpio = {
      eject: claim('reader', 'ejectPin', r.ejectPin, 'output'),
      retain: claim('reader', 'retainPin', r.retainPin, 'output'),
      pulseMs: milliseconds(r.gpioPulseMs ?? 200, 'gpioPulseMs', 'READER_PROTOCOL_INVALID'),
    };
  } else if (protocol.commands.eject === null || protocol.commands.retain === null) {
    throw new LayoutError('READER_PROTOCOL_INVALID', 'reader: give commands.eject and commands.retain, or ejectPin and retainPin for a GPIO-driven slot');
  }
  return {
    serial,
    protocol,
    gpio,
    readTimeoutMs: milliseconds(r.readTimeoutMs ?? 3000, 'readTimeoutMs', 'READER_PROTOCOL_INVALID'),
    reconnectMs: milliseconds(r.reconnectMs ?? 5000, 'reconnectMs', 'READER_PROTOCOL_INVALID'),
  };
}

function protocolText(v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '' || v.length > 32 || /[^\x01-\x7e]/.test(v)) {
    throw new LayoutError('READER_PROTOCOL_INVALID', `reader: ${what} ${JSON.stringify(v)} must be 1–32 ASCII characters`);
  }
  return v;
}

function milliseconds(v: unknown, what: string, code: 'READER_PROTOCOL_INVALID' | 'SHREDDER_TIMING_INVALID' | 'ROOM_DOOR_INVALID'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new LayoutError(code, `${what} ${JSON.stringify(v)} is not a positive number of milliseconds`);
  return v;
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new LayoutError('LAYOUT_MALFORMED', `${what} must be an object`);
  return v as Record<string, unknown>;
}

