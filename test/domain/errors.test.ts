import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DomainError, ERRORS, errorTableMarkdown, isDomainError, isErrorCode } from '../../actors/domain/errors.js';

const REQUIRED_CODES = [
  'INVALID_PHONE',
  'NOT_A_MOBILE',
  'INVALID_BIRTH_DATE',
  'INVALID_DOCUMENT_NUMBER',
  'INVALID_MRZ',
  'INVALID_OPENING_HOURS',
  'INVALID_REFERENCE',
  'INVALID_DOCUMENT_KIND',
  'INVALID_PIN_FORMAT',
  'PICKUP_NOT_FOUND',
  'PICKUP_EXISTS',
  'PICKUP_WRONG_STATE',
  'NO_FITTING_COMPARTMENT',
  'COMPARTMENT_NOT_FOUND',
  'COMPARTMENT_BUSY',
  'BOX_CLOSED',
  'KIOSK_BUSY',
  'SESSION_NOT_FOUND',
  'SESSION_WRONG_STEP',
  'AUTH_FAILED',
  'AUTH_THROTTLED',
  'PICKUP_LOCKED',
  'DEVICE_UNAVAILABLE',
  'FORBIDDEN',
  'UNAUTHENTICATED',
  'INVALID_CONFIG',
  'INTERNAL',
];

test('the catalog holds every stable code the API promises', () => {
  const missing = REQUIRED_CODES.filter((code) => !(code in ERRORS));
  assert.equal(missing, []);
});

test('every catalog entry says what it means and what to do', () => {
  for (const [code, info] of Object.entries(ERRORS)) {
    assert.ok(info.meaning.trim().length > 10, `${code} has no meaning`);
    assert.ok(info.action.trim().length > 10, `${code} has no action`);
  }
});

test('codes are upper snake case so they can be used as GraphQL extension codes', () => {
  for (const code of Object.keys(ERRORS)) assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
});

test('a DomainError carries its code, message and details and is an Error', () => {
  const error = new DomainError('PICKUP_NOT_FOUND', 'no pickup for this reference', { reference: 'V-1' });
  assert.instance(error, Error);
  assert.is(error.name, 'DomainError');
  assert.is(error.code, 'PICKUP_NOT_FOUND');
  assert.is(error.message, 'no pickup for this reference');
  assert.equal(error.details, { reference: 'V-1' });
});

test('a DomainError serialises to code, message and details for clients', () => {
  const error = new DomainError('BOX_CLOSED', 'closed');
  assert.equal(JSON.parse(JSON.stringify(error)), { code: 'BOX_CLOSED', message: 'closed' });
});

test('isDomainError tells domain errors apart and can match a code', () => {
  const error = new DomainError('KIOSK_BUSY', 'busy');
  assert.ok(isDomainError(error));
  assert.ok(isDomainError(error, 'KIOSK_BUSY'));
  assert.not.ok(isDomainError(error, 'BOX_CLOSED'));
  assert.not.ok(isDomainError(new Error('plain')));
});

test('isErrorCode accepts catalog codes only', () => {
  assert.ok(isErrorCode('AUTH_FAILED'));
  assert.not.ok(isErrorCode('AUTH_FAILURE'));
  assert.not.ok(isErrorCode('toString'));
});

test('the README table has a header and one row per code', () => {
  const lines = errorTableMarkdown().trimEnd().split('\n');
  assert.is(lines[0], '| code | meaning | what to do |');
  assert.is(lines[1], '| --- | --- | --- |');
  assert.is(lines.length, 2 + Object.keys(ERRORS).length);
  assert.ok(lines.some((l) => l.startsWith('| `PICKUP_LOCKED` | ')));
  for (const row of lines.slice(2)) assert.is(row.split(' | ').length, 3, row);
});

test.run();
