import { authActor, type AuthCrypto, type AuthPolicy } from '../../actors/auth.js';
import { pickupActor, type PickupActorCrypto } from '../../actors/pickup-actor.js';
import type { Pickup, PickupPolicy } from '../../actors/pickup.js';
import { registryActor, type RegistryCrypto, type RegistryPolicy } from '../../actors/registry.js';
import type { Effect } from '../../actors/runtime/types.js';
import { registryCrypto } from '../../src/crypto.js';

// The registry's, the pickup actor's and the auth actor's pure transitions driven directly, as the
// security tests do: one policy with the box's default numbers, a test-only PIN key, claims that
// always succeed and an archive that keeps nothing.

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

/** A pickup's own actor (`pickup/<id>`, its context its row) under `policy` with `crypto` (a real one under the test key by default). */
export const pickupUnderTest = (crypto: PickupActorCrypto = registryCrypto(TEST_PIN_KEY), policy: PickupPolicy = TEST_POLICY) =>
  pickupActor(policy, crypto, { claimOnce: async () => true, release: async () => {} }, { archive: async () => {} });

/** The row the registry spawned a pickup's actor with, among the effects of its `pickup.register` (at `address`). */
export function spawnedRow(effects: ReadonlyArray<Effect<unknown>>, address?: string): Pickup {
  const spawn = effects.find((e): e is Extract<Effect<unknown>, { type: 'spawn' }> => e.type === 'spawn' && e.kind === 'pickup');
  if (!spawn) throw new Error('no pickup actor was spawned');
  if (address !== undefined && spawn.address !== address) throw new Error(`spawned ${spawn.address}, not ${address}`);
  return (spawn.input as { row: Pickup }).row;
}

/** The auth actor under `policy` with `crypto` (a real one under the test key by default). */
export const authUnderTest = (crypto: AuthCrypto = registryCrypto(TEST_PIN_KEY), policy: AuthPolicy = TEST_POLICY) => authActor(policy, crypto);
