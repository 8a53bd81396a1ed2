import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DomainError } from '../../actors/domain/errors.js';
import {
  ALWAYS_OPEN,
  closesAt,
  describeHours,
  DUESSELDORF_HOURS,
  easterSunday,
  holidaysNW,
  isHoliday,
  isOpen,
  nextOpening,
  validateOpeningHours,
  type OpeningHours,
  type WeeklyHours,
} from '../../actors/domain/hours.js';

/** Instants are written with their Berlin offset (+01:00 CET, +02:00 CEST) so tests read as wall time. */
const at = (iso: string): number => {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad test instant ${iso}`);
  return t;
};

const CLOSED_WEEK = { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };

function weekly(days: Partial<WeeklyHours['weekly']>, extra: Partial<WeeklyHours> = {}): WeeklyHours {
  return {
    mode: 'weekly',
    timeZone: 'Europe/Berlin',
    weekly: { ...CLOSED_WEEK, ...days },
    holidays: { region: 'none' },
    ...extra,
  };
}

const DAILY_05_22 = weekly(
  Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ open: '05:00', close: '22:00' }]])),
);

function hoursError(input: unknown): DomainError {
  try {
    validateOpeningHours(input);
  } catch (error) {
    if (error instanceof DomainError) {
      assert.is(error.code, 'INVALID_OPENING_HOURS');
      return error;
    }
    throw error;
  }
  throw new Error('expected the opening hours to be refused');
}

// --- Holidays ------------------------------------------------------------------------------

test('Easter Sunday is 5 Apr 2026, 28 Mar 2027 and 16 Apr 2028', () => {
  assert.equal(easterSunday(2026), { month: 4, day: 5 });
  assert.equal(easterSunday(2027), { month: 3, day: 28 });
  assert.equal(easterSunday(2028), { month: 4, day: 16 });
});

test('Easter Sunday hits its earliest and latest possible dates', () => {
  assert.equal(easterSunday(2285), { month: 3, day: 22 });
  assert.equal(easterSunday(2038), { month: 4, day: 25 });
});

test('NRW has eleven public holidays, moving ones counted from Easter', () => {
  assert.equal(holidaysNW(2026), [
    '2026-01-01',
    '2026-04-03', // Good Friday
    '2026-04-06', // Easter Monday
    '2026-05-01',
    '2026-05-14', // Ascension
    '2026-05-25', // Whit Monday
    '2026-06-04', // Corpus Christi
    '2026-10-03',
    '2026-11-01',
    '2026-12-25',
    '2026-12-26',
  ]);
});

test('extra closing days count as holidays; region none has none of its own', () => {
  assert.ok(isHoliday({ region: 'none', extra: ['2026-12-24'] }, '2026-12-24'));
  assert.not.ok(isHoliday({ region: 'none' }, '2026-12-25'));
  assert.ok(isHoliday({ region: 'NW' }, '2026-12-25'));
});

// --- isOpen ------------------------------------------------------------------------------

test('Thursday 17:59 is open and 18:00 is closed', () => {
  assert.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-05T17:59:59.999+01:00')));
  assert.not.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-05T18:00:00+01:00')));
});

test('the box opens at exactly 07:30, not a moment earlier', () => {
  assert.not.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-02T07:29:59.999+01:00')));
  assert.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-02T07:30:00+01:00')));
});

test('Wednesday closes at 13:00', () => {
  assert.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-04T12:59:00+01:00')));
  assert.not.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-04T13:00:00+01:00')));
});

test('the box is closed on Saturday and Sunday', () => {
  assert.not.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-07T10:00:00+01:00')));
  assert.not.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-08T10:00:00+01:00')));
});

test('Good Friday 2026 is closed although Fridays are open', () => {
  assert.not.ok(isOpen(DUESSELDORF_HOURS, at('2026-04-03T10:00:00+02:00')));
  assert.ok(isOpen(DUESSELDORF_HOURS, at('2026-04-10T10:00:00+02:00')));
});

test('without a holiday calendar Good Friday is an ordinary Friday', () => {
  const noHolidays: WeeklyHours = { ...DUESSELDORF_HOURS, holidays: { region: 'none' } };
  assert.ok(isOpen(noHolidays, at('2026-04-03T10:00:00+02:00')));
});

test('an extra closing day closes the box', () => {
  const hours: WeeklyHours = { ...DUESSELDORF_HOURS, holidays: { region: 'NW', extra: ['2026-12-24'] } };
  assert.not.ok(isOpen(hours, at('2026-12-24T10:00:00+01:00')));
  assert.ok(isOpen(DUESSELDORF_HOURS, at('2026-12-24T10:00:00+01:00')));
});

test('hours are read on the wall clock of the configured time zone', () => {
  const newYork: WeeklyHours = { ...DUESSELDORF_HOURS, timeZone: 'America/New_York', holidays: { region: 'none' } };
  assert.ok(isOpen(newYork, at('2026-03-05T17:59:00-05:00')));
  assert.not.ok(isOpen(DUESSELDORF_HOURS, at('2026-03-05T17:59:00-05:00'))); // 23:59 in Berlin
});

test('the 24/7 room is always open, holidays and nights included', () => {
  for (const iso of ['2026-04-03T03:00:00+02:00', '2026-12-25T23:59:00+01:00', '2026-03-29T02:30:00+02:00']) {
    assert.ok(isOpen(ALWAYS_OPEN, at(iso)), iso);
  }
  assert.is(nextOpening(ALWAYS_OPEN, at('2026-03-05T12:00:00+01:00')), null);
  assert.is(closesAt(ALWAYS_OPEN, at('2026-03-05T12:00:00+01:00')), null);
});

// --- nextOpening ---------------------------------------------------------------------------

test('after Friday closing the next opening is Monday 07:30', () => {
  assert.is(nextOpening(DUESSELDORF_HOURS, at('2026-03-06T14:00:00+01:00')), at('2026-03-09T07:30:00+01:00'));
});

test('before opening on a workday the next opening is the same morning', () => {
  assert.is(nextOpening(DUESSELDORF_HOURS, at('2026-03-03T06:00:00+01:00')), at('2026-03-03T07:30:00+01:00'));
});

test('from Maundy Thursday evening the next opening is Tuesday after Easter Monday', () => {
  assert.is(nextOpening(DUESSELDORF_HOURS, at('2026-04-02T19:00:00+02:00')), at('2026-04-07T07:30:00+02:00'));
});

test('the next opening is strictly after the given instant', () => {
  assert.is(nextOpening(DUESSELDORF_HOURS, at('2026-03-03T07:30:00+01:00')), at('2026-03-04T07:30:00+01:00'));
});

test('while open, the next opening is the one after the current period', () => {
  assert.is(nextOpening(DUESSELDORF_HOURS, at('2026-03-02T10:00:00+01:00')), at('2026-03-03T07:30:00+01:00'));
});

test('a weekend with the spring DST switch still opens Monday at 07:30 local time', () => {
  // Clocks go forward on Sunday 29 March 2026; Friday is CET, Monday CEST.
  assert.is(nextOpening(DUESSELDORF_HOURS, at('2026-03-27T14:00:00+01:00')), at('2026-03-30T07:30:00+02:00'));
});

test('a weekend with the autumn DST switch still opens Monday at 07:30 local time', () => {
  assert.is(nextOpening(DUESSELDORF_HOURS, at('2026-10-23T14:00:00+02:00')), at('2026-10-26T07:30:00+01:00'));
});

test('on the spring-forward night a 05:00 opening comes after only six real hours', () => {
  const from = at('2026-03-28T23:00:00+01:00');
  const opening = nextOpening(DAILY_05_22, from);
  assert.is(opening, at('2026-03-29T05:00:00+02:00'));
  assert.is((opening ?? 0) - from, 5 * 3_600_000);
});

test('on the fall-back night a 05:00 opening comes after eight real hours', () => {
  const from = at('2026-10-24T22:00:00+02:00');
  const opening = nextOpening(DAILY_05_22, from);
  assert.is(opening, at('2026-10-25T05:00:00+01:00'));
  assert.is((opening ?? 0) - from, 8 * 3_600_000);
});

test('an opening time inside the skipped DST hour opens when the clock jumps past it', () => {
  const hours = weekly({ sun: [{ open: '02:30', close: '04:00' }] });
  assert.is(nextOpening(hours, at('2026-03-28T12:00:00+01:00')), at('2026-03-29T03:00:00+02:00'));
  assert.not.ok(isOpen(hours, at('2026-03-29T01:59:59+01:00')));
  assert.ok(isOpen(hours, at('2026-03-29T03:00:00+02:00')));
});

test('an interval that continues the previous day past midnight is no new opening', () => {
  const lateShift = weekly({ mon: [{ open: '20:00', close: '24:00' }], tue: [{ open: '00:00', close: '06:00' }] });
  assert.is(nextOpening(lateShift, at('2026-03-02T21:00:00+01:00')), at('2026-03-09T20:00:00+01:00'));
});

// --- closesAt ------------------------------------------------------------------------------

test('closesAt gives the end of the current opening period', () => {
  assert.is(closesAt(DUESSELDORF_HOURS, at('2026-03-05T10:00:00+01:00')), at('2026-03-05T18:00:00+01:00'));
});

test('closesAt is null while the box is closed', () => {
  assert.is(closesAt(DUESSELDORF_HOURS, at('2026-03-07T10:00:00+01:00')), null);
});

test('closesAt follows adjacent intervals across midnight', () => {
  const lateShift = weekly({ mon: [{ open: '20:00', close: '24:00' }], tue: [{ open: '00:00', close: '06:00' }] });
  assert.is(closesAt(lateShift, at('2026-03-02T21:00:00+01:00')), at('2026-03-03T06:00:00+01:00'));
});

test('closesAt on the fall-back night counts the repeated hour', () => {
  assert.is(closesAt(DAILY_05_22, at('2026-10-25T06:00:00+01:00')), at('2026-10-25T22:00:00+01:00'));
});

// --- validateOpeningHours ----------------------------------------------------------------

test('the Düsseldorf table is valid and comes back unchanged', () => {
  assert.equal(validateOpeningHours(DUESSELDORF_HOURS), DUESSELDORF_HOURS);
});

test('validation fills in missing weekdays, the Berlin time zone and no holidays', () => {
  const hours = validateOpeningHours({ mode: 'weekly', weekly: { sat: [{ open: '09:00', close: '12:00' }] } });
  assert.equal(hours, weekly({ sat: [{ open: '09:00', close: '12:00' }] }));
});

test('validation sorts a day\'s intervals', () => {
  const hours = validateOpeningHours({
    mode: 'weekly',
    weekly: { mon: [{ open: '13:00', close: '16:00' }, { open: '08:00', close: '12:00' }] },
  }) as WeeklyHours;
  assert.equal(hours.weekly.mon.map((i) => i.open), ['08:00', '13:00']);
});

test('holidays may be given as a region name and extra dates are sorted', () => {
  const byName = validateOpeningHours({ ...DUESSELDORF_HOURS, holidays: 'NW' }) as WeeklyHours;
  assert.equal(byName.holidays, { region: 'NW' });
  const withExtra = validateOpeningHours({
    ...DUESSELDORF_HOURS,
    holidays: { region: 'NW', extra: ['2026-12-31', '2026-12-24'] },
  }) as WeeklyHours;
  assert.equal(withExtra.holidays, { region: 'NW', extra: ['2026-12-24', '2026-12-31'] });
});

test('always mode validates to the 24/7 room', () => {
  assert.equal(validateOpeningHours({ mode: 'always' }), { mode: 'always' });
});

test('a time not written HH:MM is refused naming the entry', () => {
  const error = hoursError({ mode: 'weekly', weekly: { mon: [{ open: '7:30', close: '16:00' }] } });
  assert.match(error.message, /weekly\.mon\[0\]\.open: bad time format "7:30"/);
  assert.is(error.details?.path, 'weekly.mon[0].open');
});

test('hours and minutes out of range are refused', () => {
  hoursError({ mode: 'weekly', weekly: { mon: [{ open: '07:60', close: '16:00' }] } });
  hoursError({ mode: 'weekly', weekly: { mon: [{ open: '24:00', close: '24:00' }] } });
  hoursError({ mode: 'weekly', weekly: { mon: [{ open: '07:30', close: '24:01' }] } });
});

test('24:00 is accepted as a closing time', () => {
  const hours = validateOpeningHours({ mode: 'weekly', weekly: { fri: [{ open: '22:00', close: '24:00' }] } });
  assert.ok(isOpen(hours, at('2026-03-06T23:59:00+01:00')));
});

test('a close before the open is refused with a hint to split at midnight', () => {
  const error = hoursError({ mode: 'weekly', weekly: { fri: [{ open: '22:00', close: '02:00' }] } });
  assert.match(error.message, /close 02:00 is not after open 22:00/);
  assert.match(error.message, /24:00/);
});

test('an empty interval is refused', () => {
  hoursError({ mode: 'weekly', weekly: { fri: [{ open: '10:00', close: '10:00' }] } });
});

test('overlapping intervals on one day are refused', () => {
  const error = hoursError({
    mode: 'weekly',
    weekly: { tue: [{ open: '08:00', close: '12:30' }, { open: '12:00', close: '16:00' }] },
  });
  assert.match(error.message, /weekly\.tue: intervals 08:00–12:30 and 12:00–16:00 overlap/);
});

test('an unknown weekday is refused', () => {
  const error = hoursError({ mode: 'weekly', weekly: { monday: [{ open: '08:00', close: '12:00' }] } });
  assert.match(error.message, /unknown weekday "monday"/);
});

test('an unknown time zone is refused', () => {
  const error = hoursError({ ...DUESSELDORF_HOURS, timeZone: 'Europe/Duesseldorf' });
  assert.match(error.message, /not a known IANA time zone/);
});

test('an unknown holiday region is refused', () => {
  const error = hoursError({ ...DUESSELDORF_HOURS, holidays: { region: 'BY' } });
  assert.match(error.message, /holidays\.region "BY" is not supported/);
});

test('an impossible extra holiday is refused', () => {
  hoursError({ ...DUESSELDORF_HOURS, holidays: { region: 'NW', extra: ['2026-02-30'] } });
});

test('an unknown mode or a misspelt key is refused', () => {
  assert.match(hoursError({ mode: 'daily' }).message, /mode must be "weekly" or "always"/);
  assert.match(hoursError({ ...DUESSELDORF_HOURS, holiday: 'NW' }).message, /unknown key "holiday"/);
});

test('a weekly table without any opening is refused', () => {
  assert.match(hoursError({ mode: 'weekly', weekly: CLOSED_WEEK }).message, /no opening interval/);
});

test('input that is not an object is refused', () => {
  hoursError(null);
  hoursError('always');
});

// --- describeHours -------------------------------------------------------------------------

test('the Düsseldorf hours are described in German with consecutive equal days grouped', () => {
  assert.is(
    describeHours(DUESSELDORF_HOURS, 'de'),
    'Mo–Di 7:30–16:00, Mi 7:30–13:00, Do 7:30–18:00, Fr 7:30–13:00, an Feiertagen geschlossen',
  );
});

test('the Düsseldorf hours are described in English', () => {
  assert.is(
    describeHours(DUESSELDORF_HOURS, 'en'),
    'Mon–Tue 7:30–16:00, Wed 7:30–13:00, Thu 7:30–18:00, Fri 7:30–13:00, closed on public holidays',
  );
});

test('the SMS-safe description uses only GSM 7-bit characters', () => {
  const text = describeHours(DUESSELDORF_HOURS, 'de', { smsSafe: true });
  assert.is(text, 'Mo-Di 7:30-16:00, Mi 7:30-13:00, Do 7:30-18:00, Fr 7:30-13:00, an Feiertagen geschlossen');
});

test('a week of equal days collapses into one range and split days list both intervals', () => {
  assert.is(describeHours(DAILY_05_22, 'de'), 'Mo–So 5:00–22:00');
  const split = weekly({ mon: [{ open: '08:00', close: '12:00' }, { open: '13:00', close: '16:00' }] });
  assert.is(describeHours(split, 'en'), 'Mon 8:00–12:00 and 13:00–16:00');
});

test('the 24/7 room is described as always open', () => {
  const hours: OpeningHours = { mode: 'always' };
  assert.is(describeHours(hours, 'de'), 'rund um die Uhr geöffnet');
  assert.is(describeHours(hours, 'en'), 'open 24/7');
});

test.run();
