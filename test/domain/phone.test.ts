// Test numbers: German mobile numbers from the ranges the Bundesnetzagentur and the network
// operators keep for film and print ("Drama Numbers", Amtsblatt 7/2021, Mitteilung 148/2021):
// 0152 28817386, 0171 39200xx, 0176 04069xxx; the Berlin landline range 030 23125 000–999 and
// US 555-01xx. Foreign fiction ranges (French 06 39 98, British 07700 900) are absent from
// libphonenumber's metadata, so foreign mobiles use obviously sequential digits instead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maskPhone, normalizeMobile } from '../../actors/domain/phone.js';
import { assertCode, errorOf } from './assert-code.js';


test('a German national mobile number becomes E.164', () => {
  assert.is(normalizeMobile('0152 28817386'), '+4915228817386');
});

test('international prefixes and the German "(0)" habit are understood', () => {
  assert.is(normalizeMobile('+49 152 28817386'), '+4915228817386');
  assert.is(normalizeMobile('0049 152 28817386'), '+4915228817386');
  assert.is(normalizeMobile('+49 (0)152 28817386'), '+4915228817386');
  assert.is(normalizeMobile(' 0152/288 173-86 '), '+4915228817386');
});

test('German 016x and 017x numbers are mobile', () => {
  assert.is(normalizeMobile('0171 3920042'), '+491713920042');
  assert.is(normalizeMobile('0176 04069123'), '+4917604069123');
});

test('a German landline number is refused as not a mobile', () => {
  const error = assertCode(() => normalizeMobile('030 23125 042'), 'NOT_A_MOBILE');
  assert.is(error.details?.type, 'FIXED_LINE');
});

test('a toll-free number is refused as not a mobile', () => {
  assertCode(() => normalizeMobile('0800 3301000'), 'NOT_A_MOBILE');
});

test('a German mobile number with a digit missing is invalid', () => {
  assertCode(() => normalizeMobile('0152 2881738'), 'INVALID_PHONE');
});

test('letters, extensions and trailing garbage are refused instead of silently dropped', () => {
  assertCode(() => normalizeMobile('0152 28817386x'), 'INVALID_PHONE');
  assertCode(() => normalizeMobile('0152 28817386 ext. 5'), 'INVALID_PHONE');
  assertCode(() => normalizeMobile('call me'), 'INVALID_PHONE');
});

test('a plus sign inside the number is refused', () => {
  assertCode(() => normalizeMobile('0152+28817386'), 'INVALID_PHONE');
});

test('an empty number is refused', () => {
  assertCode(() => normalizeMobile('   '), 'INVALID_PHONE');
});

test('error messages do not repeat the number (logs stay pseudonymous)', () => {
  const invalid = errorOf(() => normalizeMobile('0152 2881738'));
  const landline = errorOf(() => normalizeMobile('030 23125 042'));
  assert.not.match(invalid.message, /2881738/);
  assert.not.match(landline.message, /23125/);
  assert.not.match(JSON.stringify(landline.details), /23125/);
});

test('a foreign mobile number in international form is accepted', () => {
  assert.is(normalizeMobile('+43 664 1234567'), '+436641234567');
  assert.is(normalizeMobile('0033 6 12 34 56 78'), '+33612345678');
});

test('national numbers are read in the given default country', () => {
  assert.is(normalizeMobile('06 12 34 56 78', 'FR'), '+33612345678');
  assert.is(normalizeMobile('0664 1234567', 'at'), '+436641234567');
});

test('numbers of countries that cannot tell mobile from landline are accepted', () => {
  // The North American plan gives FIXED_LINE_OR_MOBILE; refusing it would lock out every US/CA applicant.
  assert.is(normalizeMobile('+1 202 555 0123'), '+12025550123');
});

test('an unknown default country is a configuration error', () => {
  assertCode(() => normalizeMobile('0152 28817386', 'XX'), 'INVALID_CONFIG');
});

test('maskPhone shows country code, three leading and two trailing digits', () => {
  assert.is(maskPhone('+491511234567'), '+49 151 ••• ••67');
  assert.is(maskPhone('+4915228817386'), '+49 152 •••• ••86');
  assert.is(maskPhone('+12025550123'), '+1 202 ••• ••23');
});

test('maskPhone hides the middle digits', () => {
  const masked = maskPhone('+4915228817386');
  assert.not.match(masked.replace(/\D/g, ''), /28817/);
});

test('maskPhone never echoes input that is not E.164', () => {
  const masked = maskPhone('0152 28817386');
  assert.not.match(masked, /[0-9]/);
});

test.run();
