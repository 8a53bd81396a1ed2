/**
 * Mobile numbers: the PIN goes out by SMS, so a pickup's number must be a mobile number, and it is
 * stored in E.164 so that the number typed at the panel can be compared byte for byte.
 */
import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { DomainError } from './errors.js';

/** Characters people use when writing a phone number; anything else (letters, extensions) is refused. */
const PHONE_CHARS = /^[0-9+\s()./\-\u00a0]+$/;
const MAX_INPUT_LENGTH = 40;

/**
 * Number types that can receive an SMS. FIXED_LINE_OR_MOBILE is what libphonenumber reports for
 * countries whose numbering does not separate mobile from fixed lines (e.g. the US and Canada);
 * there we cannot tell and must accept. Countries that do separate them (Germany: 015x/016x/017x)
 * report MOBILE or FIXED_LINE, so a German landline is still refused.
 */
const SMS_CAPABLE_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

/**
 * Normalises a mobile number to E.164 (`+4915228817386`).
 * National numbers are read in `defaultCountry` (ISO 3166 alpha-2, default `DE`); `00` and `+`
 * prefixes and the German `+49 (0)…` habit are accepted.
 * Throws DomainError `INVALID_PHONE` for unparsable or invalid numbers and `NOT_A_MOBILE` for
 * valid numbers that are not mobile (landline, toll-free, premium…); `INVALID_CONFIG` for an
 * unknown `defaultCountry`.
 */
export function normalizeMobile(input: string, defaultCountry: string = 'DE'): string {
  const country = defaultCountry.toUpperCase();
  if (!isSupportedCountry(country)) {
    throw new DomainError('INVALID_CONFIG', `default phone country "${defaultCountry}" is not a known ISO 3166 country code`);
  }
  const raw = typeof input === 'string' ? input.trim() : '';
  // The input is personal data: messages describe the problem without repeating the number.
  if (raw.length === 0) throw new DomainError('INVALID_PHONE', 'phone number is empty');
  if (raw.length > MAX_INPUT_LENGTH || !PHONE_CHARS.test(raw)) {
    throw new DomainError('INVALID_PHONE', 'phone number may contain only digits, spaces, +, (, ), -, / and .');
  }
  if (raw.lastIndexOf('+') > 0) {
    throw new DomainError('INVALID_PHONE', 'a + may only stand at the start of the phone number');
  }
  const parsed = parsePhoneNumberFromString(raw, country as CountryCode);
  if (parsed === undefined || !parsed.isValid()) {
    throw new DomainError('INVALID_PHONE', 'phone number is not a valid number');
  }
  const type = parsed.getType();
  if (type === undefined || !SMS_CAPABLE_TYPES.has(type)) {
    throw new DomainError('NOT_A_MOBILE', 'phone number is not a mobile number and cannot receive SMS', {
      type: type ?? 'UNKNOWN',
      country: parsed.country ?? null,
    });
  }
  return parsed.number;
}

const E164 = /^\+[1-9][0-9]{6,14}$/;
const DOT = '\u2022';

/**
 * Masks an E.164 number for logs and screens: country code, the first three digits of the
 * national number and the last two stay visible (`+49 151 ••• ••67`).
 * Never throws and never echoes input that is not E.164 (it returns a fully masked placeholder),
 * so a log line cannot leak a malformed number.
 */
export function maskPhone(e164: string): string {
  if (typeof e164 !== 'string' || !E164.test(e164)) return `+${DOT}${DOT} ${DOT}${DOT}${DOT}`;
  const parsed = parsePhoneNumberFromString(e164);
  const countryCode = parsed?.countryCallingCode ?? e164.slice(1, 3);
  const national = e164.slice(1 + countryCode.length);
  if (national.length < 6) return `+${countryCode} ${DOT.repeat(3)}`;
  const head = national.slice(0, 3);
  const rest = national.slice(3);
  // The last group is two dots and the two visible digits; the dots before it go in threes, a
  // lone leftover dot joining its neighbour (•••• reads better than ••• •).
  const hidden = rest.length - 2;
  const leading = Math.max(0, hidden - 2);
  const groups: string[] = [];
  for (let i = 0; i < leading; i += 3) groups.push(DOT.repeat(Math.min(3, leading - i)));
  if (groups.length > 1 && groups[groups.length - 1] === DOT) {
    groups.pop();
    groups[groups.length - 1] += DOT;
  }
  groups.push(DOT.repeat(hidden - leading) + rest.slice(-2));
  return `+${countryCode} ${head} ${groups.join(' ')}`;
}
