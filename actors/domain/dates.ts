/**
 * Calendar dates and the box's local wall time.
 *
 * Dates are ISO strings `YYYY-MM-DD` (a calendar day, no time zone); instants are epoch ms.
 * Converting between them always names the time zone and goes through Intl, so daylight saving
 * time is handled by the platform's tz database rather than by hand-written rules.
 */
import { DomainError } from './errors.js';

export const DEFAULT_TIME_ZONE = 'Europe/Berlin';

const DAY_MS = 86_400_000;

/** Wall-clock reading of an instant in a time zone. `weekday` counts from Monday = 0. */
export interface LocalDateTime {
  readonly date: string;
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
  readonly weekday: number;
  /** Milliseconds since local midnight of `date` as read on the wall clock (0 … 86_399_999). */
  readonly msOfDay: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** True when the platform knows `timeZone` as an IANA zone (e.g. `Europe/Berlin`). */
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone.length === 0) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** ISO date string from numeric parts; the caller guarantees the parts form a real date. */
export function isoDate(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** The wall-clock time shown in `timeZone` at instant `at`. */
export function localDateTime(at: number, timeZone: string = DEFAULT_TIME_ZONE): LocalDateTime {
  const parts = formatterFor(timeZone).formatToParts(new Date(at));
  const get = (type: Intl.DateTimeFormatPartTypes): number => {
    const part = parts.find((p) => p.type === type);
    return part === undefined ? 0 : Number(part.value);
  };
  const year = get('year');
  const month = get('month');
  const day = get('day');
  const hour = get('hour');
  const minute = get('minute');
  const second = get('second');
  const millisecond = ((at % 1000) + 1000) % 1000;
  const date = isoDate(year, month, day);
  return {
    date,
    year,
    month,
    day,
    hour,
    minute,
    second,
    millisecond,
    weekday: weekdayIndex(date),
    msOfDay: ((hour * 60 + minute) * 60 + second) * 1000 + millisecond,
  };
}

/** The local calendar date (`YYYY-MM-DD`) in `timeZone` at instant `at`. */
export function localDate(at: number, timeZone: string = DEFAULT_TIME_ZONE): string {
  return localDateTime(at, timeZone).date;
}

/** The wall clock reading at `at`, expressed as if it were UTC (used to compare wall times). */
function wallAsUtc(at: number, timeZone: string): number {
  const l = localDateTime(at, timeZone);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
}

function isoToUtcMidnight(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d);
}

/**
 * The first instant at which the wall clock in `timeZone` reads `date` + `msOfDay` or later.
 *
 * - A wall time that occurs once maps to that instant.
 * - One that occurs twice (autumn fall-back) maps to its first occurrence.
 * - One that does not occur (spring-forward gap) maps to the end of the gap, i.e. the moment the
 *   clock jumps past it — a shop "opening at 02:30" on that night opens at 03:00.
 * `msOfDay` may be 86_400_000 (24:00), meaning the start of the next day.
 */
export function zonedTimeToEpoch(date: string, msOfDay: number, timeZone: string = DEFAULT_TIME_ZONE): number {
  const target = isoToUtcMidnight(date) + msOfDay;
  // Offsets a day either side bracket any single transition near the target.
  const offsets = new Set([
    wallAsUtc(target - DAY_MS, timeZone) - (target - DAY_MS),
    wallAsUtc(target + DAY_MS, timeZone) - (target + DAY_MS),
  ]);
  const exact: number[] = [];
  for (const offset of offsets) {
    const t = target - offset;
    if (wallAsUtc(t, timeZone) === target) exact.push(t);
  }
  if (exact.length > 0) return Math.min(...exact);
  // In a gap: binary-search the first instant whose wall time has passed the target.
  const sorted = [...offsets].sort((a, b) => a - b);
  let lo = target - (sorted[sorted.length - 1] ?? 0); // wall time before the target
  let hi = target - (sorted[0] ?? 0); // wall time after the target
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallAsUtc(mid, timeZone) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Weekday of an ISO date, Monday = 0 … Sunday = 6. */
export function weekdayIndex(date: string): number {
  const sundayBased = new Date(isoToUtcMidnight(date)).getUTCDay();
  return (sundayBased + 6) % 7;
}

/** The ISO date `days` calendar days after (or before, if negative) `date`. */
export function addDays(date: string, days: number): string {
  return new Date(isoToUtcMidnight(date) + days * DAY_MS).toISOString().slice(0, 10);
}

/** True when `s` is `YYYY-MM-DD` and names a real day of the Gregorian calendar. */
export function isIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m === null) return false;
  return isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** True when year/month/day name a real day (leap years included). */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

/** Oldest accepted age in full years; anyone older is almost surely a typing error. */
export const MAX_AGE_YEARS = 130;

function birthDateError(reason: 'format' | 'impossible' | 'future' | 'too_old', message: string): DomainError {
  // The input itself is personal data and is deliberately not echoed.
  return new DomainError('INVALID_BIRTH_DATE', message, { reason });
}

/**
 * Parses a birth date typed by a citizen or sent by an integration into ISO `YYYY-MM-DD`.
 * Accepts `YYYY-MM-DD`, `DD.MM.YYYY` (also `D.M.YYYY`) and `DDMMYYYY` (panel keypad).
 * Rejects impossible dates, dates after today in `timeZone`, and ages over 130.
 * Throws DomainError `INVALID_BIRTH_DATE` with `details.reason`.
 */
export function parseBirthDate(input: string, now: number, timeZone: string = DEFAULT_TIME_ZONE): string {
  const s = typeof input === 'string' ? input.trim() : '';
  let m: RegExpExecArray | null;
  let year: number;
  let month: number;
  let day: number;
  if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)) !== null) {
    [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(s)) !== null) {
    [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else if ((m = /^(\d{2})(\d{2})(\d{4})$/.exec(s)) !== null) {
    [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  } else {
    throw birthDateError('format', 'birth date must be given as DD.MM.YYYY, DDMMYYYY or YYYY-MM-DD');
  }
  if (!isCalendarDate(year, month, day)) {
    throw birthDateError('impossible', 'birth date is not a real calendar date');
  }
  const iso = isoDate(year, month, day);
  const today = localDateTime(now, timeZone);
  if (iso > today.date) {
    throw birthDateError('future', 'birth date lies in the future');
  }
  const hadBirthdayThisYear = month < today.month || (month === today.month && day <= today.day);
  const age = today.year - year - (hadBirthdayThisYear ? 0 : 1);
  if (age > MAX_AGE_YEARS) {
    throw birthDateError('too_old', `birth date gives an age over ${MAX_AGE_YEARS} years`);
  }
  return iso;
}
