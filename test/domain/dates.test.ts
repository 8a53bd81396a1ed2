import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addDays,
  isIsoDate,
  localDateTime,
  parseBirthDate,
  weekdayIndex,
  zonedTimeToEpoch,
} from '../../actors/domain/dates.js';
import { DomainError } from '../../actors/domain/errors.js';

/** 1 March 2026, 13:00 in Berlin. */
const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;

function birthDateError(input: string, now = NOW): DomainError {
  try {
    parseBirthDate(input, now);
  } catch (error) {
    if (error instanceof DomainError) {
      assert.is(error.code, 'INVALID_BIRTH_DATE');
      return error;
    }
    throw error;
  }
  throw new Error(`expected ${input} to be refused`);
}

test('an ISO birth date is returned unchanged', () => {
  assert.is(parseBirthDate('1964-08-12', NOW), '1964-08-12');
});

test('a German DD.MM.YYYY birth date becomes ISO', () => {
  assert.is(parseBirthDate('12.08.1964', NOW), '1964-08-12');
  assert.is(parseBirthDate('2.8.1964', NOW), '1964-08-02');
});

test('eight keypad digits DDMMYYYY become ISO', () => {
  assert.is(parseBirthDate('12081964', NOW), '1964-08-12');
});

test('surrounding spaces are ignored', () => {
  assert.is(parseBirthDate('  12.08.1964 ', NOW), '1964-08-12');
});

test('other formats and two-digit years are refused as format errors', () => {
  for (const input of ['1964/08/12', '12.08.64', '120864', '', 'August 12, 1964']) {
    assert.is(birthDateError(input).details?.reason, 'format', input);
  }
});

test('impossible calendar dates are refused', () => {
  assert.is(birthDateError('31.02.1990').details?.reason, 'impossible');
  assert.is(birthDateError('1990-13-01').details?.reason, 'impossible');
  assert.is(birthDateError('00001990').details?.reason, 'impossible');
});

test('29 February exists only in leap years (2000 yes, 1900 no)', () => {
  assert.is(parseBirthDate('29.02.2000', NOW), '2000-02-29');
  assert.is(birthDateError('29.02.1900').details?.reason, 'impossible');
});

test('a birth date after today is refused, today is accepted', () => {
  assert.is(birthDateError('02.03.2026').details?.reason, 'future');
  assert.is(parseBirthDate('01.03.2026', NOW), '2026-03-01');
});

test('"today" is the date in the box\'s time zone, not in UTC', () => {
  const justAfterBerlinMidnight = Date.parse('2026-03-01T23:30:00Z'); // 00:30 on 2 March in Berlin
  assert.is(parseBirthDate('02.03.2026', justAfterBerlinMidnight), '2026-03-02');
  assert.throws(() => parseBirthDate('02.03.2026', justAfterBerlinMidnight, 'America/New_York'));
});

test('ages up to 130 years are accepted, older ones refused', () => {
  assert.is(parseBirthDate('01.03.1896', NOW), '1896-03-01'); // 130 today
  assert.is(parseBirthDate('02.03.1895', NOW), '1895-03-02'); // 130, turns 131 tomorrow
  assert.is(birthDateError('01.03.1895').details?.reason, 'too_old'); // 131 today
});

test('error messages do not repeat the birth date', () => {
  assert.not.match(birthDateError('31.02.1990').message, /1990/);
  assert.not.match(birthDateError('02.03.2026').message, /2026/);
});

test('localDateTime reads Berlin wall time in winter and summer', () => {
  const winter = localDateTime(Date.parse('2026-01-15T06:30:00Z'));
  assert.equal([winter.date, winter.hour, winter.minute], ['2026-01-15', 7, 30]);
  const summer = localDateTime(Date.parse('2026-07-15T05:30:00Z'));
  assert.equal([summer.date, summer.hour, summer.minute], ['2026-07-15', 7, 30]);
});

test('localDateTime counts weekdays from Monday = 0', () => {
  assert.is(localDateTime(Date.parse('2026-03-02T10:00:00Z')).weekday, 0); // Monday
  assert.is(localDateTime(Date.parse('2026-03-01T10:00:00Z')).weekday, 6); // Sunday
  assert.is(weekdayIndex('2026-04-03'), 4); // Good Friday 2026
});

test('zonedTimeToEpoch maps an ordinary wall time to its instant', () => {
  assert.is(zonedTimeToEpoch('2026-03-05', 18 * HOUR), Date.parse('2026-03-05T18:00:00+01:00'));
  assert.is(zonedTimeToEpoch('2026-07-02', 18 * HOUR), Date.parse('2026-07-02T18:00:00+02:00'));
});

test('a wall time in the spring-forward gap maps to the end of the gap', () => {
  // 29 March 2026: clocks jump from 02:00 CET to 03:00 CEST; 02:30 never happens.
  assert.is(zonedTimeToEpoch('2026-03-29', 2.5 * HOUR), Date.parse('2026-03-29T03:00:00+02:00'));
});

test('a wall time repeated at fall-back maps to its first occurrence', () => {
  // 25 October 2026: 02:30 happens at 02:30 CEST and again at 02:30 CET.
  assert.is(zonedTimeToEpoch('2026-10-25', 2.5 * HOUR), Date.parse('2026-10-25T02:30:00+02:00'));
});

test('24:00 is midnight at the start of the next day', () => {
  assert.is(zonedTimeToEpoch('2026-03-05', 24 * HOUR), Date.parse('2026-03-06T00:00:00+01:00'));
});

test('addDays crosses month, year and leap-day boundaries', () => {
  assert.is(addDays('2028-02-28', 1), '2028-02-29');
  assert.is(addDays('2026-12-31', 1), '2027-01-01');
  assert.is(addDays('2026-04-05', -2), '2026-04-03');
});

test('isIsoDate accepts real dates only', () => {
  assert.ok(isIsoDate('2026-04-05'));
  assert.not.ok(isIsoDate('2026-04-31'));
  assert.not.ok(isIsoDate('2026-4-5'));
});

test.run();
