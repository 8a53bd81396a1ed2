/**
 * Document numbers and the machine-readable zone (ICAO 9303, TD1: three lines of 30 characters)
 * of German ID cards. The card reader delivers MRZ lines; the box matches the document number
 * against the registered old document number before shredding the card.
 */
import { isCalendarDate, isIsoDate, isoDate, localDateTime, DEFAULT_TIME_ZONE } from './dates.js';
import { DomainError } from './errors.js';

/**
 * Characters of German ID card and passport numbers: digits and the consonants that cannot be
 * mistaken for digits (no vowels, no B, D, Q, S). Documents issued since November 2021 also avoid
 * the digit 0, but older ones — exactly the cards the box shreds — still carry it.
 */
export const DOCUMENT_NUMBER_ALPHABET = '0123456789CFGHJKLMNPRTVWXYZ';

const REGULAR_NUMBER = new RegExp(`^[${DOCUMENT_NUMBER_ALPHABET}]{9}$`);
/** Temporary ID cards and passports: one letter and seven digits. */
const TEMPORARY_NUMBER = /^[A-Z][0-9]{7}$/;

const MRZ_LINE = /^[0-9A-Z<]{30}$/;
const TD1_LENGTH = 30;

/** Value of one MRZ character for check digits: digits as such, A–Z = 10–35, filler `<` = 0. */
export function mrzCharValue(char: string): number {
  const code = char.charCodeAt(0);
  if (char.length === 1 && code >= 48 && code <= 57) return code - 48;
  if (char.length === 1 && code >= 65 && code <= 90) return code - 55;
  if (char === '<') return 0;
  throw new DomainError('INVALID_MRZ', 'character not allowed in a machine-readable zone', {
    charCode: Number.isNaN(code) ? null : code,
  });
}

/** ICAO 9303 check digit: weights 7, 3, 1 repeating over the character values, sum modulo 10. */
export function mrzCheckDigit(field: string): number {
  const weights = [7, 3, 1] as const;
  let sum = 0;
  for (let i = 0; i < field.length; i++) {
    sum += mrzCharValue(field.charAt(i)) * weights[i % 3]!;
  }
  return sum % 10;
}

/**
 * Validates a German ID card or passport number and returns it normalised (upper case, spaces
 * removed): nine characters from DOCUMENT_NUMBER_ALPHABET, or one letter and seven digits for a
 * temporary document. Throws DomainError `INVALID_DOCUMENT_NUMBER` naming the problem.
 */
export function validateDocumentNumber(input: string): string {
  const s = (typeof input === 'string' ? input : '').replace(/[\s-]/g, '').toUpperCase();
  if (REGULAR_NUMBER.test(s) || TEMPORARY_NUMBER.test(s)) return s;
  // Document numbers identify a person's document; messages describe the fault, not the value.
  if (s.length === 0) throw new DomainError('INVALID_DOCUMENT_NUMBER', 'document number is empty');
  if (s.includes('O')) {
    throw new DomainError('INVALID_DOCUMENT_NUMBER', 'document numbers never contain the letter O; use the digit 0', {
      reason: 'letter_o',
    });
  }
  if (s.length === 8) {
    throw new DomainError('INVALID_DOCUMENT_NUMBER', 'a temporary document number is one letter followed by seven digits', {
      reason: 'temporary_format',
    });
  }
  if (s.length !== 9) {
    throw new DomainError('INVALID_DOCUMENT_NUMBER', `document number must have 9 characters, got ${s.length}`, {
      reason: 'length',
      length: s.length,
    });
  }
  const bad = [...s].find((c) => !DOCUMENT_NUMBER_ALPHABET.includes(c)) ?? '';
  throw new DomainError(
    'INVALID_DOCUMENT_NUMBER',
    `character "${bad}" is not used in German document numbers (allowed: 0-9 and C F G H J K L M N P R T V W X Y Z)`,
    { reason: 'alphabet' },
  );
}

export type MrzCheck = 'documentNumber' | 'birthDate' | 'expiryDate' | 'composite';

export interface Td1Data {
  /** `ID` for the German ID card, `IT` for the temporary one, `AR` for residence permits… (fillers removed). */
  readonly documentCode: string;
  readonly issuingState: string;
  readonly documentNumber: string;
  /** ISO `YYYY-MM-DD`. */
  readonly birthDate: string;
  /** ISO `YYYY-MM-DD`. */
  readonly expiryDate: string;
  /** `M`, `F`, `X`, or `<` (German ID cards leave it unspecified). */
  readonly sex: string;
  readonly nationality: string;
  readonly surname: string;
  readonly givenNames: string;
  /** True when every check digit matched. With `strict` (the default) a mismatch throws instead. */
  readonly checksOk: boolean;
  readonly failedChecks: readonly MrzCheck[];
}

export interface ParseTd1Options {
  /** Throw on a wrong check digit (default true). False reports it in `checksOk`/`failedChecks`. */
  readonly strict?: boolean;
  /** Zone used to decide which dates lie in the future (default Europe/Berlin). */
  readonly timeZone?: string;
}

function mrzError(message: string, details?: Record<string, unknown>): DomainError {
  return new DomainError('INVALID_MRZ', message, details);
}

function trimFiller(s: string): string {
  return s.replace(/<+$/, '');
}

function checkDigitAt(line: string, index: number, lineNo: number, field: string): number {
  const c = line.charAt(index);
  if (!/[0-9]/.test(c)) {
    throw mrzError(`check digit of the ${field} (line ${lineNo}, position ${index + 1}) is not a digit`, {
      line: lineNo,
      position: index + 1,
    });
  }
  return Number(c);
}

/**
 * Reads a YYMMDD field. `pickCentury` chooses the full year; the date must be a real day.
 * Unknown parts (`<`) are refused: the box needs a complete date to compare.
 */
function mrzDate(field: string, name: string, pickCentury: (yy: number, mm: number, dd: number) => number): string {
  if (!/^[0-9]{6}$/.test(field)) {
    throw mrzError(`${name} in the MRZ is not a complete YYMMDD date`, { field: name });
  }
  const yy = Number(field.slice(0, 2));
  const mm = Number(field.slice(2, 4));
  const dd = Number(field.slice(4, 6));
  const year = pickCentury(yy, mm, dd);
  if (!isCalendarDate(year, mm, dd)) throw mrzError(`${name} in the MRZ is not a real calendar date`, { field: name });
  return isoDate(year, mm, dd);
}

/**
 * Full year for a two-digit birth year: the latest century that does not put the date after
 * today (someone born "25" is a 2025 baby today, but was born in 1925 if today is 2024).
 */
export function birthYearFromYY(yy: number, month: number, day: number, today: string): number {
  const year = Math.floor(Number(today.slice(0, 4)) / 100) * 100 + yy;
  // ISO strings compare chronologically even for an impossible day, which mrzDate refuses afterwards.
  return isoDate(year, month, day) > today ? year - 100 : year;
}

/** Full year for a two-digit expiry year: the century putting it within 50 years of today. */
function expiryYearFromYY(yy: number, today: string): number {
  const currentYear = Number(today.slice(0, 4));
  let year = Math.floor(currentYear / 100) * 100 + yy;
  if (year > currentYear + 50) year -= 100;
  else if (year < currentYear - 50) year += 100;
  return year;
}

function splitName(line: string): { surname: string; givenNames: string } {
  const trimmed = trimFiller(line);
  const sep = trimmed.indexOf('<<');
  const surname = sep < 0 ? trimmed : trimmed.slice(0, sep);
  const given = sep < 0 ? '' : trimmed.slice(sep + 2);
  const words = (s: string): string => s.split('<').filter((w) => w.length > 0).join(' ');
  return { surname: words(surname), givenNames: words(given) };
}

/**
 * Parses the TD1 machine-readable zone of an ID card (three lines of 30 characters; the German
 * card's first line begins `IDD<<`). `now` decides the century of the birth date.
 * Throws DomainError `INVALID_MRZ` with a specific message for a malformed line, an impossible
 * date, a German document number outside the allowed alphabet, or (when strict) a wrong check digit.
 */
export function parseTd1(lines: readonly string[], now: number, options: ParseTd1Options = {}): Td1Data {
  const strict = options.strict ?? true;
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  if (!Array.isArray(lines) || lines.length !== 3) {
    throw mrzError(`a TD1 machine-readable zone has 3 lines, got ${Array.isArray(lines) ? lines.length : 0}`);
  }
  const [l1, l2, l3] = lines.map((l) => (typeof l === 'string' ? l.replace(/[\s\r\n]+$/, '') : '')) as [string, string, string];
  [l1, l2, l3].forEach((line, i) => {
    if (line.length !== TD1_LENGTH) {
      throw mrzError(`MRZ line ${i + 1} has ${line.length} characters, expected ${TD1_LENGTH}`, { line: i + 1 });
    }
    if (!MRZ_LINE.test(line)) {
      throw mrzError(`MRZ line ${i + 1} contains characters other than 0-9, A-Z and <`, { line: i + 1 });
    }
  });

  const documentCode = trimFiller(l1.slice(0, 2));
  if (!/^[ACI][A-Z]?$/.test(documentCode)) {
    throw mrzError('MRZ line 1 does not start with an ID document code (I, A or C)', { line: 1 });
  }
  const issuingState = trimFiller(l1.slice(2, 5));
  if (!/^[A-Z]{1,3}$/.test(issuingState)) throw mrzError('issuing state in MRZ line 1 is malformed', { line: 1 });

  const failedChecks: MrzCheck[] = [];
  const verify = (check: MrzCheck, field: string, expected: number, description: string): void => {
    if (mrzCheckDigit(field) === expected) return;
    if (strict) throw mrzError(`check digit of the ${description} does not match`, { check });
    failedChecks.push(check);
  };

  // Document number: 9 characters + check digit; ICAO lets longer numbers continue in the optional
  // field, marked by a filler where the check digit would be.
  let numberField = l1.slice(5, 14);
  let numberCheck: number;
  if (l1.charAt(14) === '<' && /^[0-9A-Z]/.test(l1.slice(15))) {
    const optional = l1.slice(15, 30);
    const end = optional.indexOf('<') < 0 ? optional.length : optional.indexOf('<');
    numberField += optional.slice(0, end - 1);
    numberCheck = checkDigitAt(optional, end - 1, 1, 'document number');
  } else {
    numberCheck = checkDigitAt(l1, 14, 1, 'document number');
  }
  const documentNumber = trimFiller(numberField);
  if (documentNumber.length === 0) throw mrzError('document number in MRZ line 1 is empty', { line: 1 });
  if (issuingState === 'D' && documentCode.startsWith('I')) {
    try {
      validateDocumentNumber(documentNumber);
    } catch {
      throw mrzError('document number in the MRZ is not a German document number', { line: 1 });
    }
  }
  verify('documentNumber', numberField, numberCheck, 'document number');

  const today = localDateTime(now, timeZone).date;
  const birthDate = mrzDate(l2.slice(0, 6), 'birth date', (yy, mm, dd) => birthYearFromYY(yy, mm, dd, today));
  verify('birthDate', l2.slice(0, 6), checkDigitAt(l2, 6, 2, 'birth date'), 'birth date');
  const sex = l2.charAt(7);
  if (!'MFX<'.includes(sex)) throw mrzError('sex field in MRZ line 2 must be M, F, X or <', { line: 2 });
  const expiryDate = mrzDate(l2.slice(8, 14), 'expiry date', (yy) => expiryYearFromYY(yy, today));
  verify('expiryDate', l2.slice(8, 14), checkDigitAt(l2, 14, 2, 'expiry date'), 'expiry date');
  const nationality = trimFiller(l2.slice(15, 18));
  if (!/^[A-Z]{1,3}$/.test(nationality)) throw mrzError('nationality in MRZ line 2 is malformed', { line: 2 });
  const composite = l1.slice(5, 30) + l2.slice(0, 7) + l2.slice(8, 15) + l2.slice(18, 29);
  verify('composite', composite, checkDigitAt(l2, 29, 2, 'whole zone (composite)'), 'whole zone (composite)');

  const { surname, givenNames } = splitName(l3);
  if (surname.length === 0) throw mrzError('MRZ line 3 carries no surname', { line: 3 });

  return {
    documentCode,
    issuingState,
    documentNumber,
    birthDate,
    expiryDate,
    sex,
    nationality,
    surname,
    givenNames,
    checksOk: failedChecks.length === 0,
    failedChecks,
  };
}

export interface Td1Input {
  readonly documentNumber: string;
  /** ISO `YYYY-MM-DD`. */
  readonly birthDate: string;
  /** ISO `YYYY-MM-DD`. */
  readonly expiryDate: string;
  readonly surname: string;
  readonly givenNames: string;
  /** Default `ID` (German ID card); `IT` for a temporary ID card. */
  readonly documentCode?: string;
  /** Default `D`. */
  readonly issuingState?: string;
  /** Default `D`. */
  readonly nationality?: string;
  /** Default `<`: the German ID card does not state it. */
  readonly sex?: 'M' | 'F' | 'X' | '<';
}

/** Upper-case MRZ transliteration (ICAO 9303 part 3): umlauts as AE/OE/UE, ß as SS, accents dropped. */
export function mrzName(name: string): string {
  return name
    .toUpperCase()
    .replace(/Ä/g, 'AE')
    .replace(/Ö/g, 'OE')
    .replace(/Ü/g, 'UE')
    .replace(/ß|ẞ/g, 'SS')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Z]+/g, '<')
    .replace(/^<+|<+$/g, '');
}

function pad(s: string, length: number): string {
  return s.length >= length ? s.slice(0, length) : s + '<'.repeat(length - s.length);
}

function yymmdd(iso: string, name: string): string {
  if (!isIsoDate(iso)) throw mrzError(`${name} must be a real date as YYYY-MM-DD`);
  return iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
}

/**
 * Builds the three TD1 lines of an ID card with correct check digits — for the simulated card
 * reader and tests. Names are transliterated and truncated to fit line 3.
 * Throws `INVALID_DOCUMENT_NUMBER` or `INVALID_MRZ` for input that cannot be encoded.
 */
export function makeTd1(input: Td1Input): [string, string, string] {
  const issuingState = input.issuingState ?? 'D';
  const documentCode = input.documentCode ?? 'ID';
  const nationality = input.nationality ?? 'D';
  const sex = input.sex ?? '<';
  if (!/^[ACI][A-Z<]?$/.test(documentCode)) throw mrzError('document code must be I, A or C plus an optional letter');
  if (!/^[A-Z]{1,3}$/.test(issuingState) || !/^[A-Z]{1,3}$/.test(nationality)) {
    throw mrzError('issuing state and nationality must be 1 to 3 letters');
  }
  const documentNumber =
    issuingState === 'D' ? validateDocumentNumber(input.documentNumber) : input.documentNumber.toUpperCase();
  if (!/^[0-9A-Z]{1,9}$/.test(documentNumber)) throw mrzError('document number must be 1 to 9 letters or digits');

  const numberField = pad(documentNumber, 9);
  const l1 = pad(pad(documentCode, 2) + pad(issuingState, 3) + numberField + mrzCheckDigit(numberField), TD1_LENGTH);

  const birth = yymmdd(input.birthDate, 'birth date');
  const expiry = yymmdd(input.expiryDate, 'expiry date');
  const head = birth + mrzCheckDigit(birth) + sex + expiry + mrzCheckDigit(expiry) + pad(nationality, 3);
  const optional = '<'.repeat(11);
  const composite = l1.slice(5, 30) + head.slice(0, 7) + head.slice(8, 15) + optional;
  const l2 = head + optional + mrzCheckDigit(composite);

  const surname = mrzName(input.surname);
  if (surname.length === 0) throw mrzError('surname must contain at least one letter');
  const l3 = pad(surname + '<<' + mrzName(input.givenNames), TD1_LENGTH);
  return [l1, l2, l3];
}
