import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkKioskClients } from '../src/server/kiosk-binding.js';
import { configFromEnv, configTableMarkdown, loadSettings, resolveConfig } from '../src/config.js';

const refused = (input: unknown): { code: string; message: string; details: { problems: string[] } } => {
  try {
    resolveConfig(input as never);
  } catch (error) {
    return error as { code: string; message: string; details: { problems: string[] } };
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
  assert.match(e.message, /compartments\[1\]\.size: must be one of "S", "M", "L", "XL"/);
  const relations = refused({ compartments: [{ id: 'A-1', size: 'S', accessible: false }, { id: 'B01', size: 'S', accessible: false }, { id: 'B01', size: 'S', accessible: false }] });
  assert.match(relations.message, /"A-1" must be column letters and a row number/);
  assert.match(relations.message, /B01 is listed twice/);
});

test('unknown keys, wrong types and values outside an enum are all refused in one INVALID_CONFIG, with "did you mean"', () => {
  const e = refused({ bogus: 1, pickupWindowDay: 14, hoursPreset: 'sometimes', kiosks: '1', sms: { maxAttemps: 3 }, compartments: [{ id: 'A01', size: 'S', accessible: false, colour: 'red' }] });
  assert.is(e.code, 'INVALID_CONFIG');
  assert.equal(e.details.problems.sort(), [
    'bogus: unknown key',
    'compartments[0].colour: unknown key',
    'hoursPreset: must be one of "duesseldorf", "always"',
    'kiosks: must be a list',
    'pickupWindowDay: unknown key (did you mean "pickupWindowDays"?)',
    'sms.maxAttemps: unknown key (did you mean "maxAttempts"?)',
  ]);
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
  assert.match(refused({ pinKey: 'short' }).message, /pinKey: must be at least 32 characters/);
  assert.match(refused({ kiosks: [] }).message, /kiosks: a box needs at least one kiosk/);
  assert.match(refused({ lockPulseMs: 5_000 }).message, /lockPulseMs: must be at most 2000/);
  assert.match(refused({ pickupWindowDays: 0 }).message, /pickupWindowDays: must be greater than 0/);
  assert.match(refused({ timeZone: 'Europe/Düsseldorf' }).message, /timeZone: must be an IANA time zone/);
});

test('a bad layout is refused with its layout code', () => {
  const e = refused({ layout: { boards: [{ id: 'B1', kind: 'mcp23017', bus: 1, address: 0x30 }], compartments: [] } });
  assert.is(e.code, 'BOARD_ADDRESS_OUT_OF_RANGE');
});

test('I2C hardware without a layout is refused', () => {
  assert.match(refused({ hardware: 'i2c', compartments: [{ id: 'A01', size: 'S', accessible: false }] }).message, /needs a layout/);
});

test('environment variables override the file, numbers and lists included; unknown ones are refused', () => {
  const env = configFromEnv({ AUSGABEBOX_STORAGE: 'memory:', AUSGABEBOX_HOURS: 'always', AUSGABEBOX_NAME: 'Holthausen', AUSGABEBOX_PICKUP_WINDOW_DAYS: '14', AUSGABEBOX_KIOSKS: '1, 2', PATH: '/bin' });
  const c = resolveConfig({ storage: 'sqlite://x.sqlite', pickupWindowDays: 10, ...env });
  assert.is(c.storage, 'memory:');
  assert.is(c.hours.mode, 'always');
  assert.is(c.name, 'Holthausen');
  assert.is(c.pickupWindowDays, 14);
  assert.equal(c.kiosks, ['1', '2']);
  assert.throws(() => configFromEnv({ AUSGABEBOX_HOURS: 'sometimes' }), /AUSGABEBOX_HOURS: must be one of "duesseldorf", "always"/);
  assert.throws(() => configFromEnv({ AUSGABEBOX_PICKUP_WINDOW_DAYS: 'ten' }), /AUSGABEBOX_PICKUP_WINDOW_DAYS: must be a number/);
  assert.throws(() => configFromEnv({ AUSGABEBOX_PIN_KYE: 'x' }), /AUSGABEBOX_PIN_KYE: unknown environment variable \(did you mean "AUSGABEBOX_PIN_KEY"\?\)/);
});

test('a boolean key is set from the environment with true or false, and nothing else', () => {
  assert.is(resolveConfig(configFromEnv({ AUSGABEBOX_STORAGE_ALLOW_NON_DURABLE: 'true' })).storageAllowNonDurable, true);
  assert.is(resolveConfig({ storageAllowNonDurable: true, ...configFromEnv({ AUSGABEBOX_STORAGE_ALLOW_NON_DURABLE: 'false' }) }).storageAllowNonDurable, false);
  assert.throws(() => configFromEnv({ AUSGABEBOX_STORAGE_ALLOW_NON_DURABLE: 'yes' }), /AUSGABEBOX_STORAGE_ALLOW_NON_DURABLE: must be true or false, not "yes"/);
});

const CLI_OPTIONS = {
  server: { type: 'string', default: 'yoga' },
  port: { type: 'string', default: '4000' },
  host: { type: 'string', default: '127.0.0.1' },
  config: { type: 'string' },
  demo: { type: 'boolean', default: false },
} as const;

test('the command line, the file and the environment are checked together: every problem in one INVALID_CONFIG', () => {
  const files: Record<string, string> = { 'box.json': JSON.stringify({ pickupWindowDay: 3, kiosks: '1', tokens: { monitor: 'm'.repeat(20) }, fleet: { url: 'redis://x' } }) };
  try {
    loadSettings({ args: ['--config', 'box.json', '--prot', '4000', '--server', 'apollo'], options: CLI_OPTIONS, env: { AUSGABEBOX_PIN_KYE: 'x' }, readFile: (p) => files[p]! });
    assert.unreachable('accepted');
  } catch (error) {
    const e = error as { code: string; details: { problems: string[] } };
    assert.is(e.code, 'INVALID_CONFIG');
    assert.equal(e.details.problems.sort(), [
      '--prot: unknown option (did you mean "--port"?)',
      '--server: must be one of "yoga", "mercurius"',
      'AUSGABEBOX_PIN_KYE: unknown environment variable (did you mean "AUSGABEBOX_PIN_KEY"?)',
      'box.json: kiosks: must be a list',
      'box.json: pickupWindowDay: unknown key (did you mean "pickupWindowDays"?)',
    ]);
  }
});

test('the kioskClients section binds panels in the file, and a malformed one is refused with INVALID_CONFIG', () => {
  const files: Record<string, string> = { 'box.json': JSON.stringify({ kioskClients: { '1': ['10.0.0.5'] } }) };
  const s = loadSettings({ args: [], options: CLI_OPTIONS, env: { AUSGABEBOX_CONFIG: 'box.json' }, readFile: (p) => files[p]! });
  assert.equal(checkKioskClients(s.file.kioskClients), { '1': ['10.0.0.5'] });
  assert.is(checkKioskClients(undefined), undefined);
  for (const bad of [['127.0.0.1'], { '1': '127.0.0.1' }, { '1': [5] }, { '1': [''] }]) {
    assert.throws(() => checkKioskClients(bad), (e: Error & { code?: string }) => e.code === 'INVALID_CONFIG' && /kioskClients/.test(e.message));
  }
});

test('a good file with sections checked elsewhere (tokens, fleet) loads, the environment over it', () => {
  const files: Record<string, string> = { 'box.json': JSON.stringify({ name: 'Ost', pickupWindowDays: 12, tokens: { monitor: 'm'.repeat(20) }, fleet: { url: 'redis://x', boxId: 'ost' } }) };
  const s = loadSettings({ args: ['--port', '8080'], options: CLI_OPTIONS, env: { AUSGABEBOX_CONFIG: 'box.json', AUSGABEBOX_NAME: 'Ost 2' }, readFile: (p) => files[p]! });
  assert.is(s.values.port, '8080');
  assert.is(s.file.name, 'Ost 2');
  assert.is(s.file.pickupWindowDays, 12);
  assert.equal(s.file.tokens, { monitor: 'm'.repeat(20) });
  assert.throws(() => loadSettings({ args: [], options: CLI_OPTIONS, env: { AUSGABEBOX_CONFIG: 'missing.json' }, readFile: () => { throw new Error('ENOENT: no such file'); } }), /missing\.json: ENOENT/);
  assert.throws(() => loadSettings({ args: [], options: CLI_OPTIONS, env: { AUSGABEBOX_CONFIG: 'bad.json' }, readFile: () => '{ "name": ' }), /bad\.json: .*JSON/);
});

test('the configuration table lists every key of the schema with its environment variable', () => {
  const table = configTableMarkdown();
  for (const key of ['pickupWindowDays', 'hoursPreset', 'layout', 'pinKey']) assert.match(table, new RegExp(`^\\| \`${key}\` \\|`, 'm'));
  assert.match(table, /\| `pickupWindowDays` \|.*\| `AUSGABEBOX_PICKUP_WINDOW_DAYS` \|/);
  assert.match(table, /\| `hoursPreset` \|.*\| `AUSGABEBOX_HOURS` \|/);
});

test.run();
