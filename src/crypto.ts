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
