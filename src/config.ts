import { DUESSELDORF_HOURS, ALWAYS_OPEN, validateOpeningHours, describeHours, type OpeningHours } from '../actors/domain/hours.js';
import { DomainError } from '../actors/domain/errors.js';
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
  throttle: { free: number; baseMs: number; maxMs: number; forgiveMs: number };
  sms: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** secret for PIN and number HMACs (hex, ≥ 32 bytes in production) */
  pinKey: string;
  restartIntensity: { max: number; withinMs: number };
  shredderBinCapacity: number;
}

export type BoxConfigInput = Partial<Omit<BoxConfig, 'hours' | 'throttle' | 'sms' | 'restartIntensity' | 'layout' | 'i2c'>> & {
  hours?: unknown;
  /** a layout as in drivers/layout.ts; validated before anything starts */
  layout?: unknown;
  i2c?: Partial<BoxConfig['i2c']>;
  throttle?: Partial<BoxConfig['throttle']>;
  sms?: Partial<BoxConfig['sms']>;
  restartIntensity?: Partial<BoxConfig['restartIntensity']>;
  /** `duesseldorf` (default), `always` (24/7 room), or a table */
  hoursPreset?: 'duesseldorf' | 'always';
};

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

/**
 * Settings from the environment, which override the configuration file: AUSGABEBOX_NAME,
 * AUSGABEBOX_LOCATION, AUSGABEBOX_STORAGE, AUSGABEBOX_STORAGE_NAMESPACE, AUSGABEBOX_HARDWARE,
 * AUSGABEBOX_HOURS (`always` or `duesseldorf`) and AUSGABEBOX_PIN_KEY.
 */
export function configFromEnv(env: NodeJS.ProcessEnv): BoxConfigInput {
  const out: BoxConfigInput = {};
  if (env.AUSGABEBOX_NAME) out.name = env.AUSGABEBOX_NAME;
  if (env.AUSGABEBOX_LOCATION) out.location = env.AUSGABEBOX_LOCATION;
  if (env.AUSGABEBOX_STORAGE) out.storage = env.AUSGABEBOX_STORAGE;
  if (env.AUSGABEBOX_STORAGE_NAMESPACE) out.storageNamespace = env.AUSGABEBOX_STORAGE_NAMESPACE;
  if (env.AUSGABEBOX_HARDWARE) out.hardware = env.AUSGABEBOX_HARDWARE as BoxConfig['hardware'];
  if (env.AUSGABEBOX_HOURS === 'always' || env.AUSGABEBOX_HOURS === 'duesseldorf') out.hoursPreset = env.AUSGABEBOX_HOURS;
  else if (env.AUSGABEBOX_HOURS) throw new DomainError('INVALID_CONFIG', 'AUSGABEBOX_HOURS must be "always" or "duesseldorf"');
  if (env.AUSGABEBOX_PIN_KEY) out.pinKey = env.AUSGABEBOX_PIN_KEY;
  return out;
}

const DEV_PIN_KEY = 'development-only-pin-key-change-me-in-production-0000';

export function resolveConfig(input: BoxConfigInput = {}): BoxConfig {
  const problems: string[] = [];
  const hours = input.hours !== undefined ? validateOpeningHours(input.hours) : input.hoursPreset === 'always' ? ALWAYS_OPEN : DUESSELDORF_HOURS;
  // A layout (boards, pins) defines the compartments; a bare compartment list runs on device-level simulation.
  const layout = input.layout !== undefined ? validateLayout(input.layout) : input.compartments ? null : demoLayout(48);
  const compartments = input.compartments ?? layout!.compartments.map((c) => ({ id: c.id, size: c.size, accessible: c.accessible }));
  const hardware = input.hardware ?? (layout ? 'i2c-sim' : 'simulated');
  if (hardware !== 'simulated' && !layout) problems.push(`hardware "${hardware}" needs a layout of boards and pins`);
  if (!['i2c-sim', 'i2c', 'simulated'].includes(hardware)) problems.push('hardware must be i2c-sim, i2c or simulated');
  const ids = new Set<string>();
  for (const c of compartments) {
    if (!COMPARTMENT_ID.test(c.id)) problems.push(`compartment id "${c.id}" must be column letters and a row number, like A07`);
    if (ids.has(c.id)) problems.push(`compartment ${c.id} is listed twice`);
    ids.add(c.id);
    if (!SIZES.includes(c.size)) problems.push(`compartment ${c.id}: size must be one of ${SIZES.join(', ')}`);
  }
  if (compartments.length === 0) problems.push('a box needs at least one compartment');
  const positive = (name: string, v: number) => {
    if (!Number.isFinite(v) || v <= 0) problems.push(`${name} must be a positive number`);
    return v;
  };
  const config: BoxConfig = {
    name: input.name ?? 'Ausgabebox',
    location: input.location ?? 'Bürgerbüro, Willi-Becker-Allee 7, Düsseldorf',
    storage: input.storage ?? 'sqlite://data/box.sqlite',
    storageNamespace: input.storageNamespace ?? 'box',
    timeZone: input.timeZone ?? 'Europe/Berlin',
    hours,
    compartments,
    hardware,
    layout,
    i2c: { busKHz: 100, pollMs: 100, ...input.i2c },
    kiosks: input.kiosks ?? ['1'],
    pickupWindowDays: positive('pickupWindowDays', input.pickupWindowDays ?? 10),
    reminderDaysBefore: positive('reminderDaysBefore', input.reminderDaysBefore ?? 2),
    auditPeriodDays: positive('auditPeriodDays', input.auditPeriodDays ?? 7),
    sessionTimeoutMs: positive('sessionTimeoutMs', input.sessionTimeoutMs ?? 60_000),
    doorWindowMs: positive('doorWindowMs', input.doorWindowMs ?? 30_000),
    doorLeftOpenMs: positive('doorLeftOpenMs', input.doorLeftOpenMs ?? 60_000),
    lockPulseMs: input.lockPulseMs ?? 300,
    maxFailedAttempts: positive('maxFailedAttempts', input.maxFailedAttempts ?? 5),
    throttle: { free: 3, baseMs: 30_000, maxMs: 3_600_000, forgiveMs: 600_000, ...input.throttle },
    sms: { maxAttempts: 5, baseDelayMs: 10_000, maxDelayMs: 15 * 60_000, ...input.sms },
    pinKey: input.pinKey ?? DEV_PIN_KEY,
    restartIntensity: { max: 5, withinMs: 30_000, ...input.restartIntensity },
    shredderBinCapacity: input.shredderBinCapacity ?? 200,
  };
  if (config.reminderDaysBefore >= config.pickupWindowDays) problems.push('reminderDaysBefore must be shorter than pickupWindowDays');
  if (config.lockPulseMs < 0 || config.lockPulseMs > 2_000) problems.push('lockPulseMs must be between 0 and 2000');
  if (config.pinKey.length < 32) problems.push('pinKey must be at least 32 characters');
  if (config.kiosks.length === 0) problems.push('a box needs at least one kiosk');
  if (problems.length) throw new DomainError('INVALID_CONFIG', `invalid configuration: ${problems.join('; ')}`, { problems });
  return config;
}

export const isDevelopmentKey = (config: BoxConfig): boolean => config.pinKey === DEV_PIN_KEY;
export const hoursText = (config: BoxConfig): string => describeHours(config.hours, 'de', { smsSafe: true });
export { DAY };
