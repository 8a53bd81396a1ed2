import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DELIVERED_KEPT_MS, outboxActor, type OutboxCtx } from '../../actors/outbox.js';

// The outbox remembers delivered ids against a repeat for DELIVERED_KEPT_MS. It adds and removes
// one row per message (the table grows with every SMS of the last two months) and drops expired
// ids in one pass a day, not on every message.

const DAY = 24 * 60 * 60 * 1000;
const outbox = outboxActor({ maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 60_000 }, { send: async () => {} } as never);
const sms = (id: string, now: number) => ({ type: 'sms.enqueue' as const, id, to: '+4915228817386', text: 'x', now });

function delivered(ids: string[], at: number): OutboxCtx {
  let ctx = outbox.init(undefined, 'outbox');
  for (const id of ids) {
    ctx = outbox.step(ctx, sms(id, at)).ctx;
    ctx = outbox.step(ctx, { type: 'sms.sent', id, now: at }).ctx;
  }
  return ctx;
}

test('a delivered id is not sent again while it is remembered, and is once its time is over', () => {
  const ctx = delivered(['pin-P1-1'], 0);
  assert.equal(outbox.step(ctx, sms('pin-P1-1', DELIVERED_KEPT_MS - 1)).effects, []);
  assert.equal(outbox.step(ctx, sms('pin-P1-1', DELIVERED_KEPT_MS)).effects, [
    { type: 'io', op: { kind: 'send', id: 'pin-P1-1', to: '+4915228817386', text: 'x' } },
  ]);
});

test('expired ids leave the delivered table at the first delivery a day after the last pass', () => {
  const old = delivered(['a', 'b'], 0);
  assert.equal(Object.keys(old.delivered), ['a', 'b']);
  assert.is(old.prunedAt, 0);
  // The same box two months on: a delivery within a day of the last pass keeps them ...
  let ctx: OutboxCtx = { ...old, prunedAt: DELIVERED_KEPT_MS + 1 };
  ctx = outbox.step(outbox.step(ctx, sms('c', DELIVERED_KEPT_MS + 2)).ctx, { type: 'sms.sent', id: 'c', now: DELIVERED_KEPT_MS + 2 }).ctx;
  assert.equal(Object.keys(ctx.delivered), ['a', 'b', 'c']);
  // ... the first a day after it drops them, and keeps what is recent.
  const at = DELIVERED_KEPT_MS + 1 + DAY;
  ctx = outbox.step(outbox.step(ctx, sms('d', at)).ctx, { type: 'sms.sent', id: 'd', now: at }).ctx;
  assert.equal(ctx.delivered, { c: DELIVERED_KEPT_MS + 2, d: at });
  assert.is(ctx.prunedAt, at);
  assert.equal(ctx.pending, {});
  assert.is(ctx.sentCount, 4);
});

test("a PIN's SMS is acknowledged to its pickup once committed, also as an earlier version queued it (its ack naming the registry)", () => {
  const message = { type: 'pin.queued' as const, pickupId: 'P7', serial: 2 };
  for (const ack of [{ message }, { to: 'registry', message }]) {
    const { effects } = outbox.step(outbox.init(undefined, 'outbox'), { ...sms('pin-P7-2', 0), ack } as Parameters<typeof outbox.step>[1]);
    assert.equal(effects.filter((e) => e.type === 'send'), [{ type: 'send', to: 'pickup/P7', message }], JSON.stringify(ack));
  }
});

test.run();
