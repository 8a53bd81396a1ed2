import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registryCrypto } from '../../src/crypto.js';
import { TEST_PIN_KEY, authUnderTest } from './registry-rig.js';

// At the first start after the upgrade the auth actor checks PINs from its `started` on; the
// registry's hand-over (`auth.adopt`) arrives once the registry has worked through what was
// queued before it. Failures counted meanwhile must not be forgotten when the old buckets arrive.

const crypto = registryCrypto(TEST_PIN_KEY);
const auth = authUnderTest(crypto);
const STRANGER = '+4915228817399';

test('auth.adopt keeps the failures the auth actor counted before the hand-over arrived', () => {
  let ctx = auth.init(undefined, 'auth');
  for (let i = 0; i < 3; i++) ctx = auth.step(ctx, { type: 'auth.pin', sessionId: `s${i}`, kioskId: '1', phone: STRANGER, pin: '000000', now: 1_000 }).ctx;
  assert.is(ctx.kioskThrottles['1']!.failures, 3);
  const old = { failures: 1, until: 0, at: 0 };
  const adopted = auth.step(ctx, { type: 'auth.adopt', credentials: [], numberThrottles: { [crypto.numberKey(STRANGER)]: old }, kioskThrottles: { 1: old }, now: 1_000 }).ctx;
  assert.ok(adopted.kioskThrottles['1']!.failures >= 3, `kiosk bucket after the hand-over: ${adopted.kioskThrottles['1']!.failures}`);
  assert.ok(adopted.numberThrottles[crypto.numberKey(STRANGER)]!.failures >= 3, 'number bucket kept');
});

test.run();
