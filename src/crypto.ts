import { createHash, createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { RegistryCrypto } from '../actors/registry.js';

/**
 * PINs are stored only as HMAC-SHA-256 under a key from configuration, bound to the pickup and
 * the PIN's serial so a reissued PIN kills the old one. Numbers are counted under a keyed hash,
 * so attempt counters for unknown numbers hold no phone number.
 */
export function registryCrypto(pinKey: Buffer, generatePin: () => string = cryptoPin): RegistryCrypto {
  const mac = (text: string) => createHmac('sha256', pinKey).update(text).digest('hex');
  return {
    pinHash: (pin, pickupId, serial) => mac(`pin:${pickupId}:${serial}:${pin}`),
    numberKey: (phone) => mac(`number:${phone}`).slice(0, 32),
    equal: constantTimeEqual,
    generatePin,
  };
}

/**
 * What the destruction record keeps of an old ID's number: a keyed hash (HMAC-SHA-256 under the
 * box's pinKey, 128 bits shown). Whoever holds the key and the number (the office, asked whether
 * that document was invalidated) computes the same tag and finds the record in the hash-chained
 * audit log; without the key the tag says nothing about the number, and nobody can try numbers.
 */
export function oldDocumentTag(pinKey: string | Buffer, documentNumber: string): string {
  const key = typeof pinKey === 'string' ? Buffer.from(pinKey, 'utf8') : pinKey;
  return `hmac:${createHmac('sha256', key).update(`oldDocument:${documentNumber.trim().toUpperCase()}`).digest('hex').slice(0, 32)}`;
}

/** A 6-digit PIN from the operating system's CSPRNG. */
export function cryptoPin(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/** Compares two strings in time independent of where they differ (and of their lengths). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}
