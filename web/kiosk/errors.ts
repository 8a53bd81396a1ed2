import type { ErrorCode } from '../shared/error-code.js';
import type { MessageKey } from './messages.js';

/** Codes the panel explains, mapped to their message; any other catalog code is `error.OTHER`. */
export const ERROR_MESSAGES: { readonly [C in ErrorCode]?: MessageKey } = {
  AUTH_FAILED: 'error.AUTH_FAILED',
  AUTH_THROTTLED: 'error.AUTH_THROTTLED',
  PICKUP_LOCKED: 'error.PICKUP_LOCKED',
  CARD_UNAVAILABLE: 'error.CARD_UNAVAILABLE',
  CARD_UNREADABLE: 'error.CARD_UNREADABLE',
  INVALID_MRZ: 'error.CARD_UNREADABLE',
  READER_TRANSFER_FAILED: 'error.CARD_UNREADABLE',
  OLD_ID_MISMATCH: 'error.OLD_ID_MISMATCH',
  BIRTH_DATE_MISMATCH: 'error.BIRTH_DATE_MISMATCH',
  INVALID_BIRTH_DATE: 'error.INVALID_BIRTH_DATE',
  INVALID_PHONE: 'error.INVALID_PHONE',
  NOT_A_MOBILE: 'error.INVALID_PHONE',
  INVALID_PIN_FORMAT: 'error.INVALID_PIN_FORMAT',
  SHREDDER_JAM: 'error.SHREDDER_JAM',
  DOOR_NOT_OPENED: 'error.DOOR_NOT_OPENED',
  SESSION_TIMEOUT: 'error.SESSION_TIMEOUT',
  INTERRUPTED: 'error.INTERRUPTED',
  SESSION_NOT_FOUND: 'error.INTERRUPTED',
  PICKUP_BUSY: 'error.PICKUP_BUSY',
  // Quarantined: starting again cannot help, the counter hands the document out.
  PICKUP_FAILED: 'error.PICKUP_FAILED',
};

/** The message that explains `code` at the panel. */
export const errorMessage = (code: ErrorCode): MessageKey => ERROR_MESSAGES[code] ?? 'error.OTHER';
