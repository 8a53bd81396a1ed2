import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkBusSpeed, demoLayout, validateLayout, type LayoutError } from '../../drivers/layout.js';
import { assertLayoutRefused } from './helpers.js';

const board = (over: Record<string, unknown> = {}) => ({ id: 'B1', kind: 'mcp23017', bus: 1, address: 0x20, ...over });
const compartment = (over: Record<string, unknown> = {}) => ({ id: 'A01', board: 'B1', lockPin: 0, doorPin: 8, size: 'M', heightCm: 100, ...over });

const layout = suite('layout validation');

layout('a good layout is completed: defaults for lock timing, accessible from the height', () => {
  const l = validateLayout({ boards: [board()], compartments: [compartment(), compartment({ id: 'A02', lockPin: 1, doorPin: 9, heightCm: 150 })] });
  assert.equal(l.compartments[0]!.lock, { pulseMs: 300, maxOnMs: 1000, cooldownMs: 2000 });
  assert.equal(l.compartments.map((c) => c.accessible), [true, false]);
});

layout('an explicit accessible flag wins over the height', () => {
  const l = validateLayout({ boards: [board()], compartments: [compartment({ heightCm: 150, accessible: true })] });
  assert.ok(l.compartments[0]!.accessible);
});

const refused: Array<[name: string, input: unknown, code: string, message: RegExp]> = [
  ['not an object', 'boards', 'LAYOUT_MALFORMED', /layout must be an object/],
  ['MCP23017 address out of range', { boards: [board({ address: 0x38 })], compartments: [] }, 'BOARD_ADDRESS_OUT_OF_RANGE', /B1: address 0x38 is outside 0x20–0x27 of a mcp23017/],
  ['PCF8574A address out of range', { boards: [board({ kind: 'pcf8574a', address: 0x20 })], compartments: [] }, 'BOARD_ADDRESS_OUT_OF_RANGE', /0x20 is outside 0x38–0x3f of a pcf8574a/],
  ['unknown chip kind', { boards: [board({ kind: 'mcp23008' })], compartments: [] }, 'BOARD_KIND_UNKNOWN', /"mcp23008"/],
  ['bad bus number', { boards: [board({ bus: -1 })], compartments: [] }, 'BOARD_BUS_INVALID', /bus -1/],
  ['duplicate address on one bus', { boards: [board(), board({ id: 'B2' })], compartments: [] }, 'BOARD_ADDRESS_DUPLICATE', /boards B1 and B2 both use address 0x20 on bus 1/],
  ['duplicate board id', { boards: [board(), board({ address: 0x21 })], compartments: [] }, 'BOARD_ID_DUPLICATE', /board id B1 is used twice/],
  ['unknown board', { boards: [board()], compartments: [compartment({ board: 'B9' })] }, 'COMPARTMENT_BOARD_UNKNOWN', /A01: board B9 is not in layout.boards/],
  ['lock pin shared', { boards: [board()], compartments: [compartment(), compartment({ id: 'A02', doorPin: 9 })] }, 'PIN_CONFLICT', /A02: lock pin GPA0 of board B1 is already the lock pin of A01/],
  ['door pin shared', { boards: [board()], compartments: [compartment(), compartment({ id: 'A02', lockPin: 1 })] }, 'PIN_CONFLICT', /A02: door pin GPB0 of board B1 is already the door pin of A01/],
  ['lock and door on one pin', { boards: [board()], compartments: [compartment({ doorPin: 0 })] }, 'PIN_CONFLICT', /door pin GPA0 .* already the lock pin of A01/],
  ['pin beyond the MCP23017', { boards: [board()], compartments: [compartment({ lockPin: 16 })] }, 'PIN_OUT_OF_RANGE', /lock pin 16 is beyond the 16 pins \(0–15\) of mcp23017 B1/],
  ['pin beyond the PCF8574', { boards: [board({ kind: 'pcf8574' })], compartments: [compartment({ doorPin: 8 })] }, 'PIN_OUT_OF_RANGE', /door pin 8 is beyond the 8 pins/],
  ['door on GPA7', { boards: [board()], compartments: [compartment({ doorPin: 7 })] }, 'DOOR_ON_OUTPUT_ONLY_PIN', /door pin 7 is GPA7 of board B1, which is output-only/],
  ['door on GPB7', { boards: [board()], compartments: [compartment({ doorPin: 15 })] }, 'DOOR_ON_OUTPUT_ONLY_PIN', /GPB7/],
  ['duplicate compartment id', { boards: [board()], compartments: [compartment(), compartment({ lockPin: 1, doorPin: 9 })] }, 'COMPARTMENT_ID_DUPLICATE', /A01 is used twice/],
  ['bad compartment id', { boards: [board()], compartments: [compartment({ id: 'door/7' })] }, 'COMPARTMENT_ID_INVALID', /like A07/],
  ['bad size', { boards: [board()], compartments: [compartment({ size: 'XXL' })] }, 'SIZE_INVALID', /size "XXL" is not one of S, M, L, XL/],
  ['bad height', { boards: [board()], compartments: [compartment({ heightCm: -5 })] }, 'HEIGHT_INVALID', /heightCm -5/],
  ['pulse over the maximum on-time', { boards: [board()], compartments: [compartment({ lock: { pulseMs: 800, maxOnMs: 500 } })] }, 'LOCK_TIMING_INVALID', /pulseMs 800 exceeds lock.maxOnMs 500/],
];

for (const [name, input, code, message] of refused) {
  layout(`refused: ${name} (${code})`, () => assertLayoutRefused(input, code, message));
}

layout('a PCF8574 bus is refused above 100 kHz', () => {
  const l = validateLayout({ boards: [board({ kind: 'pcf8574' })], compartments: [] });
  checkBusSpeed(l, 1, 100);
  assert.throws(() => checkBusSpeed(l, 1, 400), (err: LayoutError) => err.code === 'BUS_TOO_FAST');
});

layout('demoLayout(48): seven MCP23017 on bus 1, seven compartments each, doors off GPx7, a few accessible', () => {
  const l = demoLayout(48);
  assert.equal(l.boards.map((b) => [b.bus, b.address]), [0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26].map((a) => [1, a]));
  assert.is(l.compartments.length, 48);
  assert.equal(l.compartments.slice(0, 2).map((c) => c.id), ['A01', 'A02']);
  assert.ok(l.compartments.every((c) => c.doorPin !== 7 && c.doorPin !== 15));
  assert.equal(new Set(l.compartments.map((c) => c.size)), new Set(['S', 'M', 'L', 'XL']));
  const accessible = l.compartments.filter((c) => c.accessible).length;
  assert.ok(accessible > 0 && accessible < 48 / 2, `${accessible} accessible`);
});

layout('demoLayout(608): eight boards per bus, spilling onto further buses', () => {
  const l = demoLayout(608);
  assert.is(l.boards.length, 87);
  assert.is(new Set(l.boards.map((b) => b.bus)).size, 11);
  assert.is(l.compartments.at(-1)!.id, 'BX08');
});

layout.run();
