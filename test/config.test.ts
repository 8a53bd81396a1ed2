import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configFromEnv, resolveConfig } from '../src/config.js';

const refused = (input: unknown): { code: string; message: string } => {
  try {
    resolveConfig(input as never);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('the configuration was accepted');
};

test('without configuration the box has the demo layout on simulated I2C boards and the Düsseldorf hours', () => {
  const c = resolveConfig();
  assert.is(c.compartments.length, 48);
  assert.is(c.hardware, 'i2c-sim');
  assert.ok(c.layout && c.layout.boards.length > 0);
  assert.is(c.hours.mode, 'weekly');
  assert.is(c.pickupWindowDays, 10);
});

test('bad compartments are refused with every problem named, before anything starts', () => {
  const e = refused({ compartments: [{ id: 'A-1', size: 'S', accessible: false }, { id: 'B01', size: 'XXL', accessible: false }, { id: 'B01', size: 'S', accessible: false }] });
  assert.is(e.code, 'INVALID_CONFIG');
  assert.match(e.message, /"A-1" must be column letters and a row number/);
  assert.match(e.message, /B01: size must be one of/);
  assert.match(e.message, /B01 is listed twice/);
});

test('the largest box in service (608 compartments) is accepted with and without a layout', async () => {
  const { demoLayout } = await import('../drivers/layout.js');
  const { demoCompartments } = await import('../src/config.js');
  assert.is(resolveConfig({ layout: demoLayout(608) }).compartments.length, 608);
  const ids = resolveConfig({ compartments: demoCompartments(608) }).compartments.map((c) => c.id);
  assert.is(new Set(ids).size, 608);
  assert.ok(ids.includes('AY08'));
});

test('windows, keys and kiosks are checked', () => {
  assert.match(refused({ pickupWindowDays: 2, reminderDaysBefore: 2 }).message, /reminderDaysBefore must be shorter/);
  assert.match(refused({ pinKey: 'short' }).message, /pinKey must be at least 32/);
  assert.match(refused({ kiosks: [] }).message, /at least one kiosk/);
  assert.match(refused({ lockPulseMs: 5_000 }).message, /lockPulseMs/);
});

test('a bad layout is refused with its layout code', () => {
  const e = refused({ layout: { boards: [{ id: 'B1', kind: 'mcp23017', bus: 1, address: 0x30 }], compartments: [] } });
  assert.is(e.code, 'BOARD_ADDRESS_OUT_OF_RANGE');
});

test('I2C hardware without a layout is refused', () => {
  assert.match(refused({ hardware: 'i2c', compartments: [{ id: 'A01', size: 'S', accessible: false }] }).message, /needs a layout/);
});

test('environment variables override the file', () => {
  const env = configFromEnv({ AUSGABEBOX_STORAGE: 'memory:', AUSGABEBOX_HOURS: 'always', AUSGABEBOX_NAME: 'Holthausen' });
  const c = resolveConfig({ storage: 'sqlite://x.sqlite', ...env });
  assert.is(c.storage, 'memory:');
  assert.is(c.hours.mode, 'always');
  assert.is(c.name, 'Holthausen');
  assert.throws(() => configFromEnv({ AUSGABEBOX_HOURS: 'sometimes' }), /AUSGABEBOX_HOURS/);
});

test.run();
