import { z } from 'zod';
import { DomainError, isErrorCode } from '../actors/domain/errors.js';

/**
 * Shape checks of arguments, run by the Pothos validation plugin before a resolver (and so before
 * anything reaches the box). Each check names the catalog code a client gets when it fails, as
 * `CODE: message`; meaning checks (a real mobile number, a possible birth date) stay in the domain.
 */
const coded = (code: string, message: string) => `${code}: ${message}`;

export const pinArg = z.string().regex(/^\d{6}$/, coded('INVALID_PIN_FORMAT', 'a PIN is 6 digits'));
export const phoneArg = z.string().max(32, coded('INVALID_PHONE', 'a phone number has at most 32 characters')).regex(/^[0-9+()/\-\s.]+$/, coded('INVALID_PHONE', 'a phone number holds digits, spaces and + ( ) / - . only'));
export const birthDateArg = z.string().max(10, coded('INVALID_BIRTH_DATE', 'a birth date has at most 10 characters')).regex(/^[0-9.\-]+$/, coded('INVALID_BIRTH_DATE', 'a birth date holds digits, "." and "-" only'));
export const referenceArg = z.string().min(3, coded('INVALID_REFERENCE', 'a reference has 3–40 characters')).max(40, coded('INVALID_REFERENCE', 'a reference has 3–40 characters'));
export const documentNumberArg = z.string().max(12, coded('INVALID_DOCUMENT_NUMBER', 'a document number has at most 12 characters'));
export const actorAddressArg = z.string().min(1, coded('BAD_USER_INPUT', 'an actor address has 1–100 characters')).max(100, coded('BAD_USER_INPUT', 'an actor address has 1–100 characters'));
export const reasonArg = z.string().max(200, coded('BAD_USER_INPUT', 'a reason has at most 200 characters'));
export const documentsArg = z.number().int().min(1, coded('INVALID_DOCUMENT_KIND', 'documents is 1–10')).max(10, coded('INVALID_DOCUMENT_KIND', 'documents is 1–10'));
export const advanceArg = z.number().int().min(0, coded('BAD_USER_INPUT', 'ms must not be negative')).max(366 * 86_400_000, coded('BAD_USER_INPUT', 'ms is at most a year'));

/** Turns the first failed check into a DomainError with its catalog code. */
export function validationError(failure: { issues: ReadonlyArray<{ message: string }> }): DomainError {
  const first = failure.issues[0]?.message ?? 'invalid argument';
  const match = /^([A-Z][A-Z0-9_]+): (.*)$/.exec(first);
  if (match && isErrorCode(match[1]!)) return new DomainError(match[1], match[2]!);
  return new DomainError('BAD_USER_INPUT', first);
}
export const daysArg = z.number().int().min(1, coded('BAD_USER_INPUT', 'days is 1–366')).max(366, coded('BAD_USER_INPUT', 'days is 1–366'));
export const auditFilterArg = z.string().max(80, coded('BAD_USER_INPUT', 'a filter has at most 80 characters'));
export const auditLimitArg = z.number().int().min(1, coded('BAD_USER_INPUT', 'limit is 1–200')).max(200, coded('BAD_USER_INPUT', 'limit is 1–200'));
