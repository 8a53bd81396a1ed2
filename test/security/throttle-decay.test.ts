import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { throttleLevel, type AuthCtx, type AuthPolicy } from '../../actors/auth.js';
import { TEST_POLICY, authUnderTest } from './registry-rig.js';

/**
 * Throttles forgive: per-kiosk and per-number failure counts are leaky buckets (one failure
 * forgiven per `throttleForgiveMs`), so after an attack stops the panel returns to normal and a
 * later citizen's single typo costs no wait. Driven over a simulated hour through the auth actor's
 * pure transitions (the clock is the events' `now`).
 */

const MINUTE = 60_000;
const policy: AuthPolicy = { ...TEST_POLICY, throttleForgiveMs: 10 * MINUTE };

const actor = authUnderTest(undefined, policy);
const empty = (): AuthCtx => actor.init(undefined, 'auth');

type Reply = { type: 'auth.rejected'; retryAt: number | null } | { type: 'auth.throttled'; retryAt: number };

/** One wrong PIN of `phone` at kiosk 1 at `now`: the next context and the session's answer. */
function wrongPin(ctx: AuthCtx, phone: string, now: number): { ctx: AuthCtx; reply: Reply } {
  const { ctx: next, effects } = actor.step(ctx, { type: 'auth.pin', sessionId: `1-${now}`, kioskId: '1', phone, pin: '000000', now });
  const sent = effects.find((e) => e.type === 'send' && e.to === `session/1-${now}`);
  assert.ok(sent && sent.type === 'send');
  return { ctx: next, reply: sent.message as Reply };
}

/** Strangers' numbers, so only the kiosk's bucket is shared between attempts. */
const stranger = (i: number) => `+491522881${String(7000 + i).padStart(4, '0')}`;

test('an attack fills the kiosk bucket; an hour later a citizen\'s single typo costs no wait', () => {
  let ctx = empty();
  let now = 0;
  // The attacker tries whenever the panel lets them, for half an hour.
  const waits: number[] = [];
  for (let i = 0; now < 30 * MINUTE; i++) {
    const r = wrongPin(ctx, stranger(i), now);
    ctx = r.ctx;
    if (r.reply.type === 'auth.throttled') throw new Error('the attacker waited for retryAt');
    waits.push(r.reply.retryAt === null ? 0 : r.reply.retryAt - now);
    now = Math.max(now + 1_000, r.reply.retryAt ?? 0);
  }
  assert.equal(waits.slice(0, 6), [0, 0, 0, 30_000, 60_000, 120_000], 'free failures, then doubling waits');
  const peak = throttleLevel(ctx.kioskThrottles['1'], now, policy.throttleForgiveMs);
  assert.ok(peak > 4, `the attack left the kiosk at level ${peak}`);

  // Without the leak (the old behaviour) the next typo would wait even longer than the last one.
  const stillHot = wrongPin(ctx, stranger(999), now);
  assert.ok((stillHot.reply.retryAt ?? 0) - now >= waits.at(-1)!, 'right after the attack a typo still waits');

  // One simulated hour later, the bucket has leaked: a citizen's typo is free again.
  const later = now + 60 * MINUTE;
  assert.is(throttleLevel(ctx.kioskThrottles['1'], later, policy.throttleForgiveMs), Math.max(0, peak - 6));
  assert.ok(peak - 6 <= policy.throttleFree - 1, `level ${peak - 6} an hour later leaves room for a free typo`);
  const citizen = wrongPin(ctx, '+4915228817386', later);
  assert.equal(citizen.reply, { type: 'auth.rejected', retryAt: null });
});

test('the bucket leaks one failure per forgive window, and never below zero', () => {
  const t = { failures: 5, until: 0, at: 1_000 };
  assert.is(throttleLevel(t, 1_000, 10 * MINUTE), 5);
  assert.is(throttleLevel(t, 1_000 + 10 * MINUTE, 10 * MINUTE), 4);
  assert.is(throttleLevel(t, 1_000 + 25 * MINUTE, 10 * MINUTE), 2.5);
  assert.is(throttleLevel(t, 1_000 + 600 * MINUTE, 10 * MINUTE), 0);
  assert.is(throttleLevel({ failures: 5, until: 0 }, 9e12, 10 * MINUTE), 5, 'a stored throttle without `at` is not forgiven retroactively');
  assert.is(throttleLevel(undefined, 0, 10 * MINUTE), 0);
});

test('a number\'s bucket leaks too: its fourth failure after a quiet hour is free', () => {
  let ctx = empty();
  const phone = '+4915228817386';
  for (const now of [0, 1_000, 2_000]) ctx = wrongPin(ctx, phone, now).ctx;
  const fourthNow = wrongPin(ctx, phone, 3_000);
  assert.ok(fourthNow.reply.retryAt !== null, 'a fourth failure right away waits');
  // Spread over the hour, with only the number's bucket (other kiosks would share nothing).
  const fourthLater = wrongPin(ctx, phone, 3_000 + 60 * MINUTE);
  assert.equal(fourthLater.reply, { type: 'auth.rejected', retryAt: null });
});

test.run();
