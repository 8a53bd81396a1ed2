import { authActor, type AuthCrypto, type AuthPolicy } from '../../actors/auth.js';
import { registryActor, type RegistryCrypto, type RegistryPolicy } from '../../actors/registry.js';
import { registryCrypto } from '../../src/crypto.js';

// The registry's and the auth actor's pure transitions driven directly, as the security tests do:
// one policy with the box's default numbers, a test-only PIN key, claims that always succeed and an
// archive that keeps nothing.

export const TEST_PIN_KEY = Buffer.from('test-only-pin-key-0123456789abcdef-0123456789', 'utf8');

export const TEST_POLICY: RegistryPolicy & AuthPolicy = {
  windowMs: 10 * 86_400_000,
  reminderBeforeMs: 2 * 86_400_000,
  purgeAfterMs: 7 * 86_400_000,
  maxFailedAttempts: 5,
  pinResendsPerDay: 2,
  throttleFree: 3,
  throttleBaseMs: 30_000,
  throttleMaxMs: 3_600_000,
  throttleForgiveMs: 600_000,
  claimMs: 300_000,
  timeZone: 'Europe/Berlin',
  location: 'test',
  hoursText: 'test',
};

/** The registry actor under `policy` with `crypto` (a real one under the test key by default). */
export const registryUnderTest = (crypto: RegistryCrypto = registryCrypto(TEST_PIN_KEY), policy: RegistryPolicy = TEST_POLICY) =>
  registryActor(policy, crypto, { claimOnce: async () => true, release: async () => {} }, { archive: async () => {} });

/** The auth actor under `policy` with `crypto` (a real one under the test key by default). */
export const authUnderTest = (crypto: AuthCrypto = registryCrypto(TEST_PIN_KEY), policy: AuthPolicy = TEST_POLICY) => authActor(policy, crypto);
