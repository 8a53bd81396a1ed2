import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DUESSELDORF_HOURS, ALWAYS_OPEN, validateOpeningHours, describeHours, type OpeningHours } from '../actors/domain/hours.js';
import { DomainError } from '../actors/domain/errors.js';
import { z } from 'zod';
import { SIZES, type Size } from '../actors/messages.js';
import { COMPARTMENT_ID, columnLabel, demoLayout, validateLayout, type Layout } from '../drivers/layout.js';

const DAY = 24 * 60 * 60 * 1000;

export interface CompartmentConfig {
  id: string;
  size: Size;
  accessible: boolean;
}

/** Everything a box can be told; `resolveConfig` fills defaults and validates before anything starts. */
export interface BoxConfig {
  name: string;
  /** where the box stands, for SMS texts */
  location: string;
  /** `sqlite://FILE` (default `sqlite://data/box.sqlite`), `redis://HOST:PORT[/DB]` for a fleet, or `memory:` */
  storage: string;
  /** prefix of this box's keys in a shared store (boxes of a fleet on one Redis need their own) */
  storageNamespace: string;
  /** scope of the store's atomic claims (compartments, PINs): the storage namespace unless processes serving one box share it */
  claimNamespace: string;
  /** start on a Redis that does not fsync every write (appendonly yes + appendfsync always); refused otherwise */
  storageAllowNonDurable: boolean;
  timeZone: string;
  hours: OpeningHours;
  compartments: CompartmentConfig[];
  /**
   * Where the locks are: `i2c-sim` (default: the register-level simulated I2C bus and boards),
   * `i2c` (real /dev/i2c-N buses of the layout), or `simulated` (device-level, no boards; tests).
   */
  hardware: 'i2c-sim' | 'i2c' | 'simulated';
  /** boards and compartments on them; required for the I2C kinds */
  layout: Layout | null;
  i2c: { busKHz: number; pollMs: number };
  kiosks: string[];
  pickupWindowDays: number;
  reminderDaysBefore: number;
  /** days personal data stays after a pickup ended (audit period) */
  auditPeriodDays: number;
  sessionTimeoutMs: number;
  doorWindowMs: number;
  doorLeftOpenMs: number;
  lockPulseMs: number;
  maxFailedAttempts: number;
  /** new PINs a citizen may ask for at the panel ("I have not received an SMS") per pickup and day */
  pinResendsPerDay: number;
  throttle: { free: number; baseMs: number; maxMs: number; forgiveMs: number };
  sms: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** secret for PIN and number HMACs (hex, ≥ 32 bytes in production) */
  pinKey: string;
  restartIntensity: { max: number; withinMs: number };
  shredderBinCapacity: number;
}

const positive = z.number().positive();
const positiveInt = z.number().int().positive();
const SIZE_VALUES = SIZES as unknown as readonly [Size, ...Size[]];

const validTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('de-DE', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** One line of the README's configuration table: what a key means, its default, and its environment variable if it has one. */
interface KeyDoc {
  doc: string;
  default: string;
}

/**
 * The box's configuration, one schema for the file, the environment and `createBox`: strict about
 * unknown keys at every level, about types and enums. Relations between keys (a reminder shorter
 * than the window, a layout for the I2C hardware, unique compartment ids) are checked by
 * `resolveConfig` after it.
 */
export const boxConfigSchema = z.strictObject({
  name: z.string().min(1).optional(),
  location: z.string().min(1).optional(),
  storage: z.string().regex(/^(sqlite:\/\/.+|rediss?:\/\/.+|memory:)$/, 'must be sqlite://FILE, redis://HOST:PORT[/DB] or memory:').optional(),
  storageNamespace: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, "-" or "_"').optional(),
  claimNamespace: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, "-" or "_"').optional(),
  storageAllowNonDurable: z.boolean().optional(),
  timeZone: z.string().refine(validTimeZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
  hoursPreset: z.enum(['duesseldorf', 'always']).optional(),
  hours: z.unknown().optional(),
  compartments: z.array(z.strictObject({ id: z.string(), size: z.enum(SIZE_VALUES), accessible: z.boolean() })).optional(),
  hardware: z.enum(['i2c-sim', 'i2c', 'simulated']).optional(),
  layout: z.unknown().optional(),
  i2c: z.strictObject({ busKHz: positive, pollMs: positive }).partial().optional(),
  kiosks: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a kiosk id is 1–32 letters, digits, "-" or "_"')).min(1, 'a box needs at least one kiosk').optional(),
  pickupWindowDays: positive.optional(),
  reminderDaysBefore: positive.optional(),
  auditPeriodDays: positive.optional(),
  sessionTimeoutMs: positive.optional(),
  doorWindowMs: positive.optional(),
  doorLeftOpenMs: positive.optional(),
  lockPulseMs: z.number().min(0).max(2_000).optional(),
  maxFailedAttempts: positiveInt.optional(),
  pinResendsPerDay: z.number().int().min(0).optional(),
  throttle: z.strictObject({ free: z.number().int().min(0), baseMs: positive, maxMs: positive, forgiveMs: positive }).partial().optional(),
  sms: z.strictObject({ maxAttempts: positiveInt, baseDelayMs: positive, maxDelayMs: positive }).partial().optional(),
  pinKey: z.string().min(32, 'must be at least 32 characters').optional(),
  restartIntensity: z.strictObject({ max: z.number().int().min(0), withinMs: positive }).partial().optional(),
  shredderBinCapacity: positiveInt.optional(),
});

type BoxKey = keyof typeof boxConfigSchema.shape;

/** The README's configuration table is written from this (npm run docs); every key of the schema must be here. */
export const CONFIG_DOCS: Record<BoxKey, KeyDoc> = {
  name: { doc: "the box's name (SMS texts, monitor)", default: '`Ausgabebox`' },
  location: { doc: 'where the box stands, for SMS texts', default: 'a Düsseldorf citizens\' office' },
  storage: { doc: '`sqlite://FILE`, `redis://HOST:PORT[/DB]` (a fleet) or `memory:`', default: '`sqlite://DATA_DIR/box.sqlite`' },
  storageNamespace: { doc: "prefix of this box's keys in a shared store", default: '`box`' },
  claimNamespace: { doc: 'scope of the atomic compartment and PIN claims in a shared store; set the same value only on processes serving one box (an active and a standby panel PC)', default: 'the `storageNamespace`' },
  storageAllowNonDurable: {
    doc: 'start on a Redis that does not persist every write (without `appendonly yes` and `appendfsync always` the box refuses with `STORAGE_NOT_DURABLE`); a Redis restart can then lose committed state',
    default: '`false`',
  },
  timeZone: { doc: 'IANA time zone of the opening hours', default: '`Europe/Berlin`' },
  hoursPreset: { doc: '`duesseldorf` or `always` (a 24/7 room)', default: '`duesseldorf`' },
  hours: { doc: 'a weekly opening-hours table with holidays; wins over `hoursPreset`', default: '—' },
  compartments: { doc: '`[{ id, size: S|M|L|XL, accessible }]` without boards (device-level simulation)', default: 'from the layout' },
  hardware: { doc: '`i2c-sim`, `i2c` (real buses of the layout) or `simulated`', default: '`i2c-sim` (`simulated` with bare compartments)' },
  layout: {
    doc: 'boards `{ id, kind: mcp23017|pcf8574|pcf8574a, bus, address }` and compartments `{ id, board, lockPin, doorPin, size, heightCm, accessible?, lock?: { pulseMs, maxOnMs, cooldownMs } }`; checked with its own codes (`BOARD_ADDRESS_OUT_OF_RANGE`, `PIN_CONFLICT`, …)',
    default: '48 compartments on 7 MCP23017 boards, bus 1',
  },
  i2c: { doc: '`{ busKHz, pollMs }` of the I2C buses', default: '`{ busKHz: 100, pollMs: 100 }`' },
  kiosks: { doc: 'ids of the kiosks (touch panels) at the box', default: '`["1"]`' },
  pickupWindowDays: { doc: 'days a loaded document waits for its citizen', default: '10' },
  reminderDaysBefore: { doc: 'reminder SMS this many days before the window ends', default: '2' },
  auditPeriodDays: { doc: 'days personal data stays after a pickup ended', default: '7' },
  sessionTimeoutMs: { doc: 'an idle kiosk session ends after this', default: '60000' },
  doorWindowMs: { doc: 'time to open the door after it was unlocked', default: '30000' },
  doorLeftOpenMs: { doc: 'an open door raises an alarm after this', default: '60000' },
  lockPulseMs: { doc: 'length of the unlock pulse (0–2000)', default: '300' },
  maxFailedAttempts: { doc: 'wrong PINs or second factors before a pickup is locked', default: '5' },
  pinResendsPerDay: { doc: 'new PINs a citizen may ask for at the panel per pickup and day ("I have not received an SMS"); 0 turns it off', default: '2' },
  throttle: { doc: '`{ free, baseMs, maxMs, forgiveMs }` of the back-off per number and kiosk (one failure forgiven per `forgiveMs`)', default: '`{ free: 3, baseMs: 30000, maxMs: 3600000, forgiveMs: 600000 }`' },
  sms: { doc: '`{ maxAttempts, baseDelayMs, maxDelayMs }` of the SMS outbox retries', default: '`{ maxAttempts: 5, baseDelayMs: 10000, maxDelayMs: 900000 }`' },
  pinKey: { doc: 'secret of the PIN and number HMACs (≥ 32 characters; required in production)', default: 'a development key' },
  restartIntensity: { doc: '`{ max, withinMs }`: crashes before an actor is failed for good', default: '`{ max: 5, withinMs: 30000 }`' },
  shredderBinCapacity: { doc: 'cards the shredder bin holds before it asks to be emptied', default: '200' },
};

/** Environment variables that are not box keys but are read elsewhere (the CLI, the fleet link). */
const ENV_READ_ELSEWHERE = ['AUSGABEBOX_CONFIG', 'AUSGABEBOX_FLEET_URL', 'AUSGABEBOX_BOX_ID'];

/** `pickupWindowDays` → `AUSGABEBOX_PICKUP_WINDOW_DAYS`; `hoursPreset` keeps its short name `AUSGABEBOX_HOURS`. */
export function envName(key: string): string {
  if (key === 'hoursPreset') return 'AUSGABEBOX_HOURS';
  return `AUSGABEBOX_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

type EnvKind = 'string' | 'number' | 'boolean' | 'list';

/** How an environment variable's text becomes the value of a key of this schema; null: not settable from the environment. */
function envKindOf(schema: z.ZodType): EnvKind | null {
  if (schema instanceof z.ZodString || schema instanceof z.ZodEnum) return 'string';
  if (schema instanceof z.ZodNumber) return 'number';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodArray && schema.element instanceof z.ZodString) return 'list';
  return null;
}

/** The value of an environment variable of this kind (a number that does not parse stays text, for the schema to refuse). */
function envValue(kind: EnvKind, value: string): unknown {
  switch (kind) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
    case 'boolean':
      return value.trim() === 'true';
    case 'list':
      return value.split(',').map((v) => v.trim());
    default:
      return value;
  }
}

/** The top-level keys that can be set from the environment: strings, numbers, booleans (`true`/`false`), enums and lists of strings. */
function envKeys(): Map<string, { key: BoxKey; kind: EnvKind }> {
  const out = new Map<string, { key: BoxKey; kind: EnvKind }>();
  for (const [key, schema] of Object.entries(boxConfigSchema.shape) as Array<[BoxKey, z.ZodType]>) {
    const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
    const kind = envKindOf(inner);
    if (kind) out.set(envName(key), { key, kind });
  }
  return out;
}

export const ENV_KEYS = envKeys();

/**
 * Settings from the environment (`AUSGABEBOX_<KEY>`, e.g. AUSGABEBOX_PICKUP_WINDOW_DAYS=14,
 * AUSGABEBOX_KIOSKS=1,2), which override the configuration file. An unknown AUSGABEBOX_ variable is
 * a problem (with a "did you mean"); the values are checked by the schema with the file.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): BoxConfigInput {
  const { values, problems } = readEnv(env);
  if (problems.length) throw new DomainError('INVALID_CONFIG', `invalid configuration: ${problems.join('; ')}`, { problems });
  return values;
}

function readEnv(env: NodeJS.ProcessEnv): { values: BoxConfigInput; problems: string[] } {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('AUSGABEBOX_') || value === undefined || ENV_READ_ELSEWHERE.includes(name)) continue;
    const known = ENV_KEYS.get(name);
    if (!known) {
      problems.push(`${name}: unknown environment variable${didYouMean(name, [...ENV_KEYS.keys(), ...ENV_READ_ELSEWHERE])}`);
      continue;
    }
    if (known.kind === 'boolean' && !/^(true|false)$/.test(value.trim())) {
      problems.push(`${name}: must be true or false, not "${value}"`);
      continue;
    }
    out[known.key] = envValue(known.kind, value);
  }
  problems.push(...issuesOf(boxConfigSchema, out, (path) => envName(String(path[0]))));
  return { values: out as BoxConfigInput, problems };
}

/** Sections of the configuration file that other parts check: role tokens, CORS and the kiosk panels' client addresses (src/server), the fleet link, the central service and a box's webhooks (src/fleet). */
export const FILE_SECTIONS = ['tokens', 'cors', 'kioskClients', 'fleet', 'central', 'webhooks'] as const;

/** The configuration file: the box's keys and the sections checked elsewhere. */
export const fileConfigSchema = boxConfigSchema.extend(Object.fromEntries(FILE_SECTIONS.map((k) => [k, z.unknown().optional()])) as Record<(typeof FILE_SECTIONS)[number], z.ZodOptional<z.ZodUnknown>>);

/** The command line's values (from node:util parseArgs): unknown options are refused by parseArgs itself. */
export const commandLineSchema = z.looseObject({
  server: z.enum(['yoga', 'mercurius']),
  port: z.string().regex(/^\d{1,5}$/, 'must be a port number').refine((p) => Number(p) <= 65_535, 'must be a port number'),
  host: z.string().min(1),
});

export interface Settings<V> {
  /** the command line's values */
  values: V;
  /** the file's content with the environment's values over it (sections such as `tokens` included) */
  file: z.output<typeof fileConfigSchema>;
}

/**
 * The command line, the configuration file (`--config` or AUSGABEBOX_CONFIG) and the environment,
 * checked together: every problem of all three is listed in one `INVALID_CONFIG` before anything
 * starts. Unknown options, keys and AUSGABEBOX_ variables get a "did you mean" for near misses.
 */
export function loadSettings<O extends ParseArgsConfig['options']>(opts: { args: string[]; options: O; env: NodeJS.ProcessEnv; readFile: (path: string) => string }): Settings<ReturnType<typeof parseArgs<{ options: O; args: string[] }>>['values']> {
  const problems: string[] = [];
  const options = opts.options ?? {};
  let values: Record<string, unknown> = {};
  try {
    values = parseArgs({ args: opts.args, options, allowPositionals: false }).values;
  } catch (error) {
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((error as Error).message)?.[1];
    problems.push(unknown ? `${unknown}: unknown option${didYouMean(unknown, Object.keys(options).map((o) => `--${o}`))}` : `command line: ${(error as Error).message}`);
    values = parseArgs({ args: opts.args, options, strict: false, allowPositionals: true }).values;
  }
  problems.push(...issuesOf(commandLineSchema, values, (path) => `--${String(path[0])}`));
  const configPath = (values.config as string | undefined) ?? opts.env.AUSGABEBOX_CONFIG;
  let file: Record<string, unknown> = {};
  if (configPath) {
    try {
      const parsed: unknown = JSON.parse(opts.readFile(configPath));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${configPath}: must hold a JSON object`);
      else {
        file = parsed as Record<string, unknown>;
        problems.push(...issuesOf(fileConfigSchema, file).map((p) => `${configPath}: ${p}`));
      }
    } catch (error) {
      problems.push(`${configPath}: ${(error as Error).message}`);
    }
  }
  const env = readEnv(opts.env);
  problems.push(...env.problems);
  const merged = { ...file, ...env.values };
  if (problems.length === 0) {
    // relations between keys (a reminder shorter than the window, unique compartments, …)
    try {
      resolveConfig(boxKeysOf(merged));
    } catch (error) {
      const details = (error as DomainError).details?.problems;
      if (Array.isArray(details)) problems.push(...(details as string[]));
      else throw error;
    }
  }
  if (problems.length) throw new DomainError('INVALID_CONFIG', `invalid configuration: ${problems.join('; ')}`, { problems });
  return { values: values as never, file: merged as z.output<typeof fileConfigSchema> };
}

/** The box's own keys of a configuration file (without the sections checked elsewhere). */
export function boxKeysOf(file: Record<string, unknown>): BoxConfigInput {
  return Object.fromEntries(Object.entries(file).filter(([k]) => !(FILE_SECTIONS as readonly string[]).includes(k))) as BoxConfigInput;
}

/** ` (did you mean "x"?)` for the nearest known name within a few edits, or nothing. */
export function didYouMean(name: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean "${best}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = row;
  }
  return previous[b.length]!;
}

/** The keys an object schema knows at `path` (through optionals and arrays), for "did you mean". */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: z.ZodType = schema;
  for (const step of [...path, null]) {
    while (at instanceof z.ZodOptional) at = at.unwrap() as z.ZodType;
    if (at instanceof z.ZodArray && typeof step === 'number') {
      at = at.element as z.ZodType;
      continue;
    }
    if (!(at instanceof z.ZodObject)) return [];
    if (step === null) return Object.keys(at.shape);
    at = at.shape[String(step)] as z.ZodType;
    if (!at) return [];
  }
  return [];
}

const pathText = (path: readonly PropertyKey[]) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');

/** Every problem the schema finds, one line each, named by `where` (a key path, or an environment variable). */
function issuesOf(schema: z.ZodType, value: unknown, where: (path: readonly PropertyKey[]) => string = pathText): string[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path);
      return issue.keys.map((key) => `${where([...issue.path, key])}: unknown key${didYouMean(key, known)}`);
    }
    if (issue.code === 'invalid_type') return [`${where(issue.path)}: must be ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}`];
    if (issue.code === 'invalid_value') return [`${where(issue.path)}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`];
    if (issue.code === 'too_small' && issue.origin === 'number') return [`${where(issue.path)}: must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}`];
    if (issue.code === 'too_big' && issue.origin === 'number') return [`${where(issue.path)}: must be at most ${issue.maximum}`];
    return [`${where(issue.path)}: ${issue.message}`];
  });
}

/** `value` when the schema accepts it; otherwise one INVALID_CONFIG that lists every problem. */
function checked<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const problems = issuesOf(schema, value);
  if (problems.length) throw new DomainError('INVALID_CONFIG', `invalid configuration: ${problems.join('; ')}`, { problems });
  return value as z.output<S>;
}

/** The README's configuration table (between config:start and config:end), from the schema and CONFIG_DOCS. */
export function configTableMarkdown(): string {
  const rows = (Object.keys(boxConfigSchema.shape) as BoxKey[]).map((key) => {
    const env = [...ENV_KEYS].find(([, v]) => v.key === key)?.[0];
    const cell = (text: string) => text.replace(/\|/g, '\\|');
    return `| \`${key}\` | ${cell(CONFIG_DOCS[key].doc)} | ${cell(CONFIG_DOCS[key].default)} | ${env ? `\`${env}\`` : '—'} |`;
  });
  return ['| key | meaning | default | environment |', '| --- | --- | --- | --- |', ...rows, ''].join('\n');
}

/** What a caller may pass to `createBox`: every key optional, checked whole by `boxConfigSchema`. */
export type BoxConfigInput = z.input<typeof boxConfigSchema>;

/** A demo box without boards: `n` compartments in rows A, B, … Z, AA… of 12, mixed sizes, rows B and C accessible. */
export function demoCompartments(n: number): CompartmentConfig[] {
  const out: CompartmentConfig[] = [];
  for (let i = 0; i < n; i++) {
    const row = columnLabel(Math.floor(i / 12));
    const col = (i % 12) + 1;
    const size: Size = col <= 6 ? 'S' : col <= 9 ? 'M' : col <= 11 ? 'L' : 'XL';
    out.push({ id: `${row}${String(col).padStart(2, '0')}`, size, accessible: row === 'B' || row === 'C' });
  }
  return out;
}

const DEV_PIN_KEY = 'development-only-pin-key-change-me-in-production-0000';

/**
 * Checks a configuration whole and fills the defaults. Unknown keys (with a "did you mean" for near
 * misses), wrong types and values out of range are all listed in one `INVALID_CONFIG` before
 * anything starts; a bad layout or opening-hours table keeps its own code.
 */
export function resolveConfig(raw: BoxConfigInput = {}): BoxConfig {
  const input = checked(boxConfigSchema, raw);
  const problems: string[] = [];
  const hours = input.hours !== undefined ? validateOpeningHours(input.hours) : input.hoursPreset === 'always' ? ALWAYS_OPEN : DUESSELDORF_HOURS;
  // A layout (boards, pins) defines the compartments; a bare compartment list runs on device-level simulation.
  const layout = input.layout !== undefined ? validateLayout(input.layout) : input.compartments ? null : demoLayout(48);
  const compartments = input.compartments ?? layout!.compartments.map((c) => ({ id: c.id, size: c.size, accessible: c.accessible }));
  const hardware = input.hardware ?? (layout ? 'i2c-sim' : 'simulated');
  if (hardware !== 'simulated' && !layout) problems.push(`hardware "${hardware}" needs a layout of boards and pins`);
  const ids = new Set<string>();
  for (const c of compartments) {
    if (!COMPARTMENT_ID.test(c.id)) problems.push(`compartment id "${c.id}" must be column letters and a row number, like A07`);
    if (ids.has(c.id)) problems.push(`compartment ${c.id} is listed twice`);
    ids.add(c.id);
  }
  if (compartments.length === 0) problems.push('a box needs at least one compartment');
  const config: BoxConfig = {
    name: input.name ?? 'Ausgabebox',
    location: input.location ?? 'Bürgerbüro, Willi-Becker-Allee 7, Düsseldorf',
    storage: input.storage ?? 'sqlite://data/box.sqlite',
    storageNamespace: input.storageNamespace ?? 'box',
    claimNamespace: input.claimNamespace ?? input.storageNamespace ?? 'box',
    storageAllowNonDurable: input.storageAllowNonDurable ?? false,
    timeZone: input.timeZone ?? 'Europe/Berlin',
    hours,
    compartments,
    hardware,
    layout,
    i2c: { busKHz: 100, pollMs: 100, ...input.i2c },
    kiosks: input.kiosks ?? ['1'],
    pickupWindowDays: input.pickupWindowDays ?? 10,
    reminderDaysBefore: input.reminderDaysBefore ?? 2,
    auditPeriodDays: input.auditPeriodDays ?? 7,
    sessionTimeoutMs: input.sessionTimeoutMs ?? 60_000,
    doorWindowMs: input.doorWindowMs ?? 30_000,
    doorLeftOpenMs: input.doorLeftOpenMs ?? 60_000,
    lockPulseMs: input.lockPulseMs ?? 300,
    maxFailedAttempts: input.maxFailedAttempts ?? 5,
    pinResendsPerDay: input.pinResendsPerDay ?? 2,
    throttle: { free: 3, baseMs: 30_000, maxMs: 3_600_000, forgiveMs: 600_000, ...input.throttle },
    sms: { maxAttempts: 5, baseDelayMs: 10_000, maxDelayMs: 15 * 60_000, ...input.sms },
    pinKey: input.pinKey ?? DEV_PIN_KEY,
    restartIntensity: { max: 5, withinMs: 30_000, ...input.restartIntensity },
    shredderBinCapacity: input.shredderBinCapacity ?? 200,
  };
  if (config.reminderDaysBefore >= config.pickupWindowDays) problems.push('reminderDaysBefore must be shorter than pickupWindowDays');
  if (problems.length) throw new DomainError('INVALID_CONFIG', `invalid configuration: ${problems.join('; ')}`, { problems });
  return config;
}

export const isDevelopmentKey = (config: BoxConfig): boolean => config.pinKey === DEV_PIN_KEY;
export const hoursText = (config: BoxConfig): string => describeHours(config.hours, 'de', { smsSafe: true });
export { DAY };
