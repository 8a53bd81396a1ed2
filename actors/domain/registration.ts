import { DomainError } from './errors.js';
import { parseBirthDate } from './dates.js';
import { validateDocumentNumber } from './mrz.js';
import { normalizeMobile } from './phone.js';

/** What the citizens' office hands out (domain-facts.md). */
export const DOCUMENT_KINDS = ['ID_CARD', 'PASSPORT', 'CHILDREN_PASSPORT', 'RESIDENCE_PERMIT', 'TEMPORARY_ID_CARD', 'TEMPORARY_PASSPORT'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** A registration as an integration sends it. */
export interface RegisterInput {
  reference: string;
  documentKind: string;
  phone: string;
  birthDate: string;
  oldDocumentNumber?: string | null;
  accessible?: boolean;
  documents?: number;
}

/** Checks and normalises a registration; throws DomainError with a stable code. */
export function validateRegistration(input: RegisterInput, now: number, timeZone: string) {
  const reference = String(input.reference ?? '').trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9\-/.]{2,39}$/.test(reference)) {
    throw new DomainError('INVALID_REFERENCE', 'reference must be 3–40 letters, digits, "-", "/" or "."');
  }
  if (!DOCUMENT_KINDS.includes(input.documentKind as DocumentKind)) {
    throw new DomainError('INVALID_DOCUMENT_KIND', `documentKind must be one of ${DOCUMENT_KINDS.join(', ')}`);
  }
  const documents = input.documents ?? 1;
  if (!Number.isInteger(documents) || documents < 1 || documents > 10) {
    throw new DomainError('INVALID_DOCUMENT_KIND', 'documents must be a whole number from 1 to 10');
  }
  return {
    reference,
    documentKind: input.documentKind as DocumentKind,
    phone: normalizeMobile(String(input.phone ?? '')),
    birthDate: parseBirthDate(String(input.birthDate ?? ''), now, timeZone),
    oldDocumentNumber: input.oldDocumentNumber ? validateDocumentNumber(input.oldDocumentNumber) : null,
    accessible: input.accessible === true,
    documents,
  };
}
