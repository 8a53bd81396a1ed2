/**
 * Opening hours of the box room: a weekly table in the box's local wall time, closed on public
 * holidays, or `always` for a 24/7 room.
 *
 * Semantics (the invariant every function here keeps): the box is open at instant t exactly when
 * the local date of t is not a holiday and the wall-clock time of t lies in one of that weekday's
 * half-open intervals [open, close). Working on wall time makes DST days come out right without
 * special cases: on the spring-forward night a time inside the skipped hour is reached when the
 * clock jumps past it; on the fall-back night the repeated hour is simply open or closed twice.
 */
import {
  addDays,
  DEFAULT_TIME_ZONE,
  isIsoDate,
  isValidTimeZone,
  localDateTime,
  weekdayIndex,
  zonedTimeToEpoch,
} from './dates.js';
import { DomainError } from './errors.js';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** One opening interval in local wall time, `HH:MM`; `close` may be `24:00` (end of day). */
export interface Interval {
  readonly open: string;
  readonly close: string;
}

/** Holiday calendars the box can compute. `NW` = North Rhine-Westphalia; `none` = no public holidays. */
export const HOLIDAY_REGIONS = ['NW', 'none'] as const;
export type HolidayRegion = (typeof HOLIDAY_REGIONS)[number];

export interface HolidayRule {
  readonly region: HolidayRegion;
  /** Further closing days (`YYYY-MM-DD`), e.g. staff outings or Christmas Eve. */
  readonly extra?: readonly string[];
}

export interface WeeklyHours {
  readonly mode: 'weekly';
  /** IANA zone of the wall clock the table is written in. */
  readonly timeZone: string;
  readonly weekly: Readonly<Record<Weekday, readonly Interval[]>>;
  readonly holidays: HolidayRule;
}

export interface AlwaysOpen {
  readonly mode: 'always';
}

export type OpeningHours = WeeklyHours | AlwaysOpen;

/** The Düsseldorf citizens' office table, closed at weekends and on NRW public holidays. */
export const DUESSELDORF_HOURS: WeeklyHours = {
  mode: 'weekly',
  timeZone: DEFAULT_TIME_ZONE,
  weekly: {
    mon: [{ open: '07:30', close: '16:00' }],
    tue: [{ open: '07:30', close: '16:00' }],
    wed: [{ open: '07:30', close: '13:00' }],
    thu: [{ open: '07:30', close: '18:00' }],
    fri: [{ open: '07:30', close: '13:00' }],
    sat: [],
    sun: [],
  },
  holidays: { region: 'NW' },
};

export const ALWAYS_OPEN: AlwaysOpen = { mode: 'always' };

const MINUTE_MS = 60_000;
/** How far nextOpening/closesAt look ahead; a box closed longer than this is reported as null. */
const LOOKAHEAD_DAYS = 400;

// ---------------------------------------------------------------------------------------------
// Holidays

/** Easter Sunday of a Gregorian year, by the anonymous Gregorian (Meeus/Jones/Butcher) algorithm. */
export function easterSunday(year: number): { month: number; day: number } {
  if (!Number.isInteger(year) || year < 1583) {
    throw new RangeError(`easterSunday needs a Gregorian year (>= 1583), got ${year}`);
  }
  const a = year % 19; // position in the 19-year Metonic cycle
  const century = Math.floor(year / 100);
  const yearInCentury = year % 100;
  const leapCenturies = Math.floor(century / 4);
  const centuryRemainder = century % 4;
  const lunarCorrection = Math.floor((century + 8) / 25);
  const solarCorrection = Math.floor((century - lunarCorrection + 1) / 3);
  const epact = (19 * a + century - leapCenturies - solarCorrection + 15) % 30;
  const leapYears = Math.floor(yearInCentury / 4);
  const yearRemainder = yearInCentury % 4;
  const weekdayShift = (32 + 2 * centuryRemainder + 2 * leapYears - epact - yearRemainder) % 7;
  const lateCorrection = Math.floor((a + 11 * epact + 22 * weekdayShift) / 451);
  const n = epact + weekdayShift - 7 * lateCorrection + 114;
  return { month: Math.floor(n / 31), day: (n % 31) + 1 };
}

function easterIso(year: number): string {
  const { month, day } = easterSunday(year);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Public holidays of North Rhine-Westphalia in `year`, as sorted ISO dates. */
export function holidaysNW(year: number): string[] {
  const easter = easterIso(year);
  const fixed = ['01-01', '05-01', '10-03', '11-01', '12-25', '12-26'].map((md) => `${year}-${md}`);
  const moving = [
    -2, // Good Friday
    1, // Easter Monday
    39, // Ascension Day
    50, // Whit Monday
    60, // Corpus Christi
  ].map((offset) => addDays(easter, offset));
  return [...fixed, ...moving].sort();
}

const nwCache = new Map<number, ReadonlySet<string>>();

function nwHolidaySet(year: number): ReadonlySet<string> {
  let set = nwCache.get(year);
  if (set === undefined) {
    set = new Set(holidaysNW(year));
    nwCache.set(year, set);
  }
  return set;
}

/** True when `date` (`YYYY-MM-DD`) is a closing day under `rule`. */
export function isHoliday(rule: HolidayRule, date: string): boolean {
  if (rule.extra?.includes(date)) return true;
  if (rule.region === 'NW') return nwHolidaySet(Number(date.slice(0, 4))).has(date);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Validation

const TIME = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;

function hoursError(message: string, path?: string): DomainError {
  return new DomainError('INVALID_OPENING_HOURS', message, path === undefined ? undefined : { path });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw hoursError(`unknown key "${key}" in ${where}; allowed: ${allowed.join(', ')}`, where);
    }
  }
}

/** Minutes since midnight of a validated `HH:MM` (or `24:00`). */
function minutesOf(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

function parseTime(value: unknown, path: string, allowEndOfDay: boolean): string {
  if (typeof value === 'string' && (TIME.test(value) || (allowEndOfDay && value === '24:00'))) return value;
  const shown = typeof value === 'string' ? `"${value}"` : typeof value;
  const hint = allowEndOfDay ? 'HH:MM between 00:01 and 24:00' : 'HH:MM between 00:00 and 23:59';
  throw hoursError(`${path}: bad time format ${shown}, expected ${hint}`, path);
}

function parseDay(day: Weekday, value: unknown): Interval[] {
  const path = `weekly.${day}`;
  if (!Array.isArray(value)) throw hoursError(`${path} must be a list of {open, close} intervals`, path);
  const intervals = value.map((raw, i): Interval => {
    const at = `${path}[${i}]`;
    if (!isRecord(raw)) throw hoursError(`${at} must be an object {open: "HH:MM", close: "HH:MM"}`, at);
    rejectUnknownKeys(raw, ['open', 'close'], at);
    const open = parseTime(raw.open, `${at}.open`, false);
    const close = parseTime(raw.close, `${at}.close`, true);
    if (minutesOf(close) <= minutesOf(open)) {
      throw hoursError(
        `${at}: close ${close} is not after open ${open}; split hours past midnight at 24:00 into two days`,
        at,
      );
    }
    return { open, close };
  });
  intervals.sort((a, b) => minutesOf(a.open) - minutesOf(b.open));
  for (let i = 1; i < intervals.length; i++) {
    const prev = intervals[i - 1]!;
    const cur = intervals[i]!;
    if (minutesOf(cur.open) < minutesOf(prev.close)) {
      throw hoursError(
        `${path}: intervals ${prev.open}–${prev.close} and ${cur.open}–${cur.close} overlap`,
        path,
      );
    }
  }
  return intervals;
}

function parseHolidays(value: unknown): HolidayRule {
  if (value === undefined) return { region: 'none' };
  const region = typeof value === 'string' ? value : isRecord(value) ? value.region : undefined;
  if (!HOLIDAY_REGIONS.includes(region as HolidayRegion)) {
    throw hoursError(
      `holidays.region ${JSON.stringify(region)} is not supported; use one of ${HOLIDAY_REGIONS.join(', ')}`,
      'holidays.region',
    );
  }
  if (!isRecord(value)) return { region: region as HolidayRegion };
  rejectUnknownKeys(value, ['region', 'extra'], 'holidays');
  if (value.extra === undefined) return { region: region as HolidayRegion };
  const extraRaw = value.extra;
  if (!Array.isArray(extraRaw)) throw hoursError('holidays.extra must be a list of YYYY-MM-DD dates', 'holidays.extra');
  const extra = extraRaw.map((d, i) => {
    if (typeof d !== 'string' || !isIsoDate(d)) {
      throw hoursError(`holidays.extra[${i}] must be a real date as YYYY-MM-DD`, `holidays.extra[${i}]`);
    }
    return d;
  });
  return { region: region as HolidayRegion, extra: [...new Set(extra)].sort() };
}

/**
 * Checks opening hours from configuration and returns a normalised copy (all seven weekdays,
 * intervals sorted, default time zone Europe/Berlin, default holidays `none`).
 * `holidays` may be `'NW'`, `'none'` or `{ region, extra }`.
 * Throws DomainError `INVALID_OPENING_HOURS` naming the offending entry.
 */
export function validateOpeningHours(input: unknown): OpeningHours {
  if (!isRecord(input)) throw hoursError('opening hours must be an object with a "mode"');
  if (input.mode === 'always') {
    // A time zone is tolerated (a shared config may carry one) but must still be a real zone.
    rejectUnknownKeys(input, ['mode', 'timeZone'], 'opening hours');
    if (input.timeZone !== undefined && !isValidTimeZone(input.timeZone as string)) {
      throw hoursError(`timeZone ${JSON.stringify(input.timeZone)} is not a known IANA time zone`, 'timeZone');
    }
    return { mode: 'always' };
  }
  if (input.mode !== 'weekly') {
    throw hoursError(`mode must be "weekly" or "always", got ${JSON.stringify(input.mode)}`, 'mode');
  }
  rejectUnknownKeys(input, ['mode', 'timeZone', 'weekly', 'holidays'], 'opening hours');
  const timeZone = input.timeZone ?? DEFAULT_TIME_ZONE;
  if (typeof timeZone !== 'string' || !isValidTimeZone(timeZone)) {
    throw hoursError(`timeZone ${JSON.stringify(timeZone)} is not a known IANA time zone (e.g. "Europe/Berlin")`, 'timeZone');
  }
  if (!isRecord(input.weekly)) throw hoursError('weekly must be an object keyed by mon … sun', 'weekly');
  for (const key of Object.keys(input.weekly)) {
    if (!(WEEKDAYS as readonly string[]).includes(key)) {
      throw hoursError(`unknown weekday "${key}"; use ${WEEKDAYS.join(', ')}`, `weekly.${key}`);
    }
  }
  const weekly = {} as Record<Weekday, Interval[]>;
  for (const day of WEEKDAYS) weekly[day] = parseDay(day, input.weekly[day] ?? []);
  if (WEEKDAYS.every((day) => weekly[day].length === 0)) {
    throw hoursError('weekly has no opening interval on any day; use mode "always" for a 24/7 room', 'weekly');
  }
  return { mode: 'weekly', timeZone, weekly, holidays: parseHolidays(input.holidays) };
}

// ---------------------------------------------------------------------------------------------
// Queries

/** The interval of `hours` containing the wall-clock reading of `at`, if the box is open then. */
function intervalAt(hours: WeeklyHours, at: number): { date: string; msOfDay: number; interval: Interval } | null {
  const local = localDateTime(at, hours.timeZone);
  if (isHoliday(hours.holidays, local.date)) return null;
  const day = WEEKDAYS[local.weekday]!;
  for (const interval of hours.weekly[day]) {
    if (local.msOfDay >= minutesOf(interval.open) * MINUTE_MS && local.msOfDay < minutesOf(interval.close) * MINUTE_MS) {
      return { date: local.date, msOfDay: local.msOfDay, interval };
    }
  }
  return null;
}

/** True when the box accepts citizens at instant `at` (epoch ms). */
export function isOpen(hours: OpeningHours, at: number): boolean {
  return hours.mode === 'always' || intervalAt(hours, at) !== null;
}

/**
 * The next moment strictly after `at` at which the box opens (goes from closed to open), in
 * epoch ms. When the box is open at `at`, that is the opening after the current period.
 * Null in `always` mode and when no opening lies within about a year.
 */
export function nextOpening(hours: OpeningHours, at: number): number | null {
  if (hours.mode === 'always') return null;
  const start = localDateTime(at, hours.timeZone).date;
  for (let d = 0; d <= LOOKAHEAD_DAYS; d++) {
    const date = addDays(start, d);
    if (isHoliday(hours.holidays, date)) continue;
    const day = WEEKDAYS[weekdayIndex(date)]!;
    for (const interval of hours.weekly[day]) {
      const t = zonedTimeToEpoch(date, minutesOf(interval.open) * MINUTE_MS, hours.timeZone);
      // An interval continuing the previous one (e.g. 24:00 → 00:00) is no opening; an interval
      // swallowed by a DST gap (02:00–02:30 on spring-forward night) never opens at all.
      if (t > at && isOpen(hours, t) && !isOpen(hours, t - 1)) return t;
    }
  }
  return null;
}

/**
 * The moment the current opening period ends (epoch ms), following adjacent intervals across
 * midnight. Null when the box is closed at `at`, in `always` mode, or when it never closes
 * within about a year.
 */
export function closesAt(hours: OpeningHours, at: number): number | null {
  if (hours.mode === 'always') return null;
  let t = at;
  for (let step = 0; step < LOOKAHEAD_DAYS * 4; step++) {
    const current = intervalAt(hours, t);
    if (current === null) return step === 0 ? null : t;
    const closeMs = minutesOf(current.interval.close) * MINUTE_MS;
    let end = zonedTimeToEpoch(current.date, closeMs, hours.timeZone);
    // In the repeated hour of a fall-back night the first occurrence of the close time may
    // already be past; the wall clock then runs linearly up to the close time.
    if (end <= t) end = t + (closeMs - current.msOfDay);
    t = end;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Description

const DAY_LABELS: Record<'de' | 'en', readonly string[]> = {
  de: ['Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa', 'So'],
  en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
};

const PHRASES = {
  de: { always: 'rund um die Uhr geöffnet', closed: 'geschlossen', and: 'und', holidays: 'an Feiertagen geschlossen' },
  en: { always: 'open 24/7', closed: 'closed', and: 'and', holidays: 'closed on public holidays' },
} as const;

export interface DescribeOptions {
  /**
   * Use `-` instead of the en dash `–`: the en dash is outside the GSM 7-bit alphabet and would
   * switch an SMS to UCS-2, halving its length.
   */
  readonly smsSafe?: boolean;
}

/** `07:30` → `7:30` (the usual German way of writing times). */
function shortTime(time: string): string {
  return time.startsWith('0') ? time.slice(1) : time;
}

/**
 * Short human text of the opening hours for SMS and kiosk, days with equal hours grouped:
 * `Mo–Di 7:30–16:00, Mi 7:30–13:00, Do 7:30–18:00, Fr 7:30–13:00, an Feiertagen geschlossen`.
 */
export function describeHours(hours: OpeningHours, locale: 'de' | 'en' = 'de', options: DescribeOptions = {}): string {
  const phrases = PHRASES[locale];
  if (hours.mode === 'always') return phrases.always;
  const dash = options.smsSafe ? '-' : '–';
  const labels = DAY_LABELS[locale];
  const text = (intervals: readonly Interval[]): string =>
    intervals.map((i) => `${shortTime(i.open)}${dash}${shortTime(i.close)}`).join(` ${phrases.and} `);

  const groups: Array<{ first: number; last: number; hours: string }> = [];
  WEEKDAYS.forEach((day, index) => {
    const intervals = hours.weekly[day];
    if (intervals.length === 0) return;
    const h = text(intervals);
    const prev = groups[groups.length - 1];
    if (prev !== undefined && prev.last === index - 1 && prev.hours === h) prev.last = index;
    else groups.push({ first: index, last: index, hours: h });
  });
  if (groups.length === 0) return phrases.closed;
  const parts = groups.map((g) => {
    const days = g.first === g.last ? labels[g.first] : `${labels[g.first]}${dash}${labels[g.last]}`;
    return `${days} ${g.hours}`;
  });
  if (hours.holidays.region !== 'none') parts.push(phrases.holidays);
  return parts.join(', ');
}
