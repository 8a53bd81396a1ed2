// Reference data: the ICAO 9303 specimen passport (number L898902C3) and the Bundesdruckerei
// specimen of the German ID card (Erika Mustermann, number T22000129). No real person's data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  makeTd1,
  mrzCharValue,
  mrzCheckDigit,
  mrzName,
  parseTd1,
  validateDocumentNumber,
} from '../../actors/domain/mrz.js';
import { assertCode } from './assert-code.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');

const SPECIMEN = [
  'IDD<<T220001293<<<<<<<<<<<<<<<',
  '6408125<2010315D<<<<<<<<<<<<<4',
  'MUSTERMANN<<ERIKA<<<<<<<<<<<<<',
];


/** Replaces the character at `index` of `line`. */
function patch(line: string, index: number, char: string): string {
  return line.slice(0, index) + char + line.slice(index + 1);
}

test('check digits match the ICAO 9303 specimen passport', () => {
  assert.is(mrzCheckDigit('L898902C3'), 6);
  assert.is(mrzCheckDigit('740812'), 2);
  assert.is(mrzCheckDigit('120415'), 9);
});

test('MRZ characters count digits as such, A–Z as 10–35 and the filler as 0', () => {
  assert.is(mrzCharValue('7'), 7);
  assert.is(mrzCharValue('A'), 10);
  assert.is(mrzCharValue('Z'), 35);
  assert.is(mrzCharValue('<'), 0);
});

test('a character outside the MRZ set cannot get a check digit', () => {
  assertCode(() => mrzCheckDigit('ab'), 'INVALID_MRZ');
});

test('nine-character document numbers from the German alphabet are accepted', () => {
  assert.is(validateDocumentNumber('L01X00T47'), 'L01X00T47');
  assert.is(validateDocumentNumber('T22000129'), 'T22000129');
});

test('document numbers are normalised to upper case without spaces', () => {
  assert.is(validateDocumentNumber(' l01x 00t47 '), 'L01X00T47');
});

test('temporary document numbers (one letter, seven digits) are accepted', () => {
  assert.is(validateDocumentNumber('A1234567'), 'A1234567');
});

test('a vowel or B, D, Q, S in a document number is refused', () => {
  for (const number of ['L01A00T47', 'L01B00T47', 'L01D00T47', 'L01Q00T47', 'L01S00T47']) {
    const error = assertCode(() => validateDocumentNumber(number), 'INVALID_DOCUMENT_NUMBER');
    assert.is(error.details?.reason, 'alphabet', number);
  }
});

test('the letter O gets a hint to type the digit zero', () => {
  const error = assertCode(() => validateDocumentNumber('LO1X00T47'), 'INVALID_DOCUMENT_NUMBER');
  assert.match(error.message, /digit 0/);
});

test('a document number of the wrong length is refused with its length', () => {
  const error = assertCode(() => validateDocumentNumber('L01X00T'), 'INVALID_DOCUMENT_NUMBER');
  assert.match(error.message, /9 characters, got 7/);
});

test('an eight-character number that is not letter plus seven digits is refused', () => {
  const error = assertCode(() => validateDocumentNumber('AB123456'), 'INVALID_DOCUMENT_NUMBER');
  assert.is(error.details?.reason, 'temporary_format');
});

test('the German ID card specimen MRZ parses with all checks passing', () => {
  assert.equal(parseTd1(SPECIMEN, NOW), {
    documentCode: 'ID',
    issuingState: 'D',
    documentNumber: 'T22000129',
    birthDate: '1964-08-12',
    expiryDate: '2020-10-31',
    sex: '<',
    nationality: 'D',
    surname: 'MUSTERMANN',
    givenNames: 'ERIKA',
    checksOk: true,
    failedChecks: [],
  });
});

test('trailing whitespace and carriage returns from a reader are ignored', () => {
  const parsed = parseTd1(SPECIMEN.map((l) => `${l}\r\n`), NOW);
  assert.is(parsed.documentNumber, 'T22000129');
});

test('a wrong document-number check digit is refused naming the field', () => {
  const error = assertCode(() => parseTd1([patch(SPECIMEN[0]!, 14, '4'), SPECIMEN[1]!, SPECIMEN[2]!], NOW), 'INVALID_MRZ');
  assert.match(error.message, /check digit of the document number/);
});

test('a wrong birth-date check digit is refused naming the field', () => {
  const error = assertCode(() => parseTd1([SPECIMEN[0]!, patch(SPECIMEN[1]!, 6, '6'), SPECIMEN[2]!], NOW), 'INVALID_MRZ');
  assert.match(error.message, /check digit of the birth date/);
});

test('a wrong expiry-date check digit is refused naming the field', () => {
  const error = assertCode(() => parseTd1([SPECIMEN[0]!, patch(SPECIMEN[1]!, 14, '6'), SPECIMEN[2]!], NOW), 'INVALID_MRZ');
  assert.match(error.message, /check digit of the expiry date/);
});

test('a wrong composite check digit is refused', () => {
  const error = assertCode(() => parseTd1([SPECIMEN[0]!, patch(SPECIMEN[1]!, 29, '5'), SPECIMEN[2]!], NOW), 'INVALID_MRZ');
  assert.match(error.message, /composite/);
});

test('a tampered optional field is caught by the composite check digit', () => {
  assertCode(() => parseTd1([patch(SPECIMEN[0]!, 20, 'X'), SPECIMEN[1]!, SPECIMEN[2]!], NOW), 'INVALID_MRZ');
});

test('non-strict parsing reports failed checks instead of throwing', () => {
  const parsed = parseTd1([SPECIMEN[0]!, patch(SPECIMEN[1]!, 6, '6'), SPECIMEN[2]!], NOW, { strict: false });
  assert.is(parsed.checksOk, false);
  assert.equal(parsed.failedChecks, ['birthDate', 'composite']);
});

test('a line of the wrong length is refused with line number and length', () => {
  const error = assertCode(() => parseTd1([SPECIMEN[0]!, SPECIMEN[1]!.slice(0, 29), SPECIMEN[2]!], NOW), 'INVALID_MRZ');
  assert.match(error.message, /line 2 has 29 characters, expected 30/);
});

test('lower-case or foreign characters in a line are refused', () => {
  const error = assertCode(() => parseTd1([SPECIMEN[0]!, SPECIMEN[1]!, SPECIMEN[2]!.toLowerCase()], NOW), 'INVALID_MRZ');
  assert.match(error.message, /line 3 contains characters/);
});

test('a zone with other than three lines is refused', () => {
  assertCode(() => parseTd1(SPECIMEN.slice(0, 2), NOW), 'INVALID_MRZ');
});

test('a non-digit check digit is refused naming its position', () => {
  const error = assertCode(() => parseTd1([SPECIMEN[0]!, patch(SPECIMEN[1]!, 6, '<'), SPECIMEN[2]!], NOW), 'INVALID_MRZ');
  assert.match(error.message, /line 2, position 7/);
});

test('an impossible birth date in the MRZ is refused', () => {
  const [l1, , l3] = makeTd1({
    documentNumber: 'T22000129',
    birthDate: '1964-02-28',
    expiryDate: '2030-10-31',
    surname: 'Mustermann',
    givenNames: 'Erika',
  });
  const l2 = '6402305<3010318D<<<<<<<<<<<<<0'; // 30 Feb; the composite is not reached
  const error = assertCode(() => parseTd1([l1, l2, l3], NOW), 'INVALID_MRZ');
  assert.match(error.message, /birth date in the MRZ is not a real calendar date/);
});

test('a German ID card MRZ with a number outside the German alphabet is refused', () => {
  const lines = makeTd1({
    documentNumber: 'A1234567',
    birthDate: '1990-01-01',
    expiryDate: '2030-01-01',
    surname: 'Probe',
    givenNames: 'Paula',
  });
  const bad = 'IDD<<L01A00T47' + String(mrzCheckDigit('L01A00T47')) + lines[0].slice(15);
  const error = assertCode(() => parseTd1([bad, lines[1], lines[2]], NOW), 'INVALID_MRZ');
  assert.match(error.message, /not a German document number/);
});

test('a two-digit birth year takes the latest century not in the future', () => {
  const make = (birthDate: string): string[] =>
    makeTd1({ documentNumber: 'T22000129', birthDate, expiryDate: '2030-01-01', surname: 'Probe', givenNames: 'Paula' });
  // "25" is 2025 when today is 2026, but 1925 when today is mid-2024.
  assert.is(parseTd1(make('2025-01-01'), NOW).birthDate, '2025-01-01');
  assert.is(parseTd1(make('2025-01-01'), Date.parse('2024-06-01T12:00:00Z')).birthDate, '1925-01-01');
  // Born today is not in the future; born tomorrow in "26" means 1926.
  assert.is(parseTd1(make('2026-03-01'), NOW).birthDate, '2026-03-01');
  assert.is(parseTd1(make('1926-03-02'), NOW).birthDate, '1926-03-02');
});

test('an expiry year is read in the century nearest to today', () => {
  const lines = makeTd1({ documentNumber: 'T22000129', birthDate: '1964-08-12', expiryDate: '2035-06-30', surname: 'A', givenNames: 'B' });
  assert.is(parseTd1(lines, NOW).expiryDate, '2035-06-30');
});

test('makeTd1 reproduces the German ID card specimen', () => {
  const lines = makeTd1({
    documentNumber: 'T22000129',
    birthDate: '1964-08-12',
    expiryDate: '2020-10-31',
    surname: 'Mustermann',
    givenNames: 'Erika',
  });
  assert.equal(lines, SPECIMEN);
});

test('makeTd1 output parses back to the same data', () => {
  const lines = makeTd1({
    documentNumber: 'LZ6311T47',
    birthDate: '1983-08-12',
    expiryDate: '2031-08-01',
    surname: 'Gabler',
    givenNames: 'Erika Anna',
  });
  const parsed = parseTd1(lines, NOW);
  assert.is(parsed.documentNumber, 'LZ6311T47');
  assert.is(parsed.birthDate, '1983-08-12');
  assert.is(parsed.expiryDate, '2031-08-01');
  assert.is(parsed.givenNames, 'ERIKA ANNA');
  assert.ok(parsed.checksOk);
});

test('a temporary ID card gets document code IT and a padded number', () => {
  const lines = makeTd1({
    documentNumber: 'F1234567',
    birthDate: '1990-05-17',
    expiryDate: '2026-06-30',
    surname: 'Probe',
    givenNames: 'Paula',
    documentCode: 'IT',
  });
  assert.ok(lines[0].startsWith('ITD<<F1234567<'));
  const parsed = parseTd1(lines, NOW);
  assert.is(parsed.documentCode, 'IT');
  assert.is(parsed.documentNumber, 'F1234567');
});

test('names are transliterated the ICAO way and cut to the line', () => {
  assert.is(mrzName('Müller-Lüdenscheidt'), 'MUELLER<LUEDENSCHEIDT');
  assert.is(mrzName('Strauß'), 'STRAUSS');
  assert.is(mrzName('Zoë Françoise'), 'ZOE<FRANCOISE');
  const lines = makeTd1({
    documentNumber: 'T22000129',
    birthDate: '1964-08-12',
    expiryDate: '2030-10-31',
    surname: 'Schwarzenberg-Übelhör',
    givenNames: 'Maximiliane Friederike',
  });
  assert.is(lines[2].length, 30);
  assert.ok(lines[2].startsWith('SCHWARZENBERG<UEBELHOER<<MAXI'));
});

test('makeTd1 refuses a document number it cannot encode', () => {
  assertCode(
    () => makeTd1({ documentNumber: 'L01A00T47', birthDate: '1964-08-12', expiryDate: '2030-10-31', surname: 'A', givenNames: 'B' }),
    'INVALID_DOCUMENT_NUMBER',
  );
});

test('makeTd1 refuses an impossible date', () => {
  assertCode(
    () => makeTd1({ documentNumber: 'T22000129', birthDate: '1964-02-30', expiryDate: '2030-10-31', surname: 'A', givenNames: 'B' }),
    'INVALID_MRZ',
  );
});

test.run();
