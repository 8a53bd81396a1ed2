import { rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startCentral } from '../../src/fleet/central.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signWebhook, verifyWebhook } from '../../src/fleet/webhooks.js';
import { BIRTH } from '../helpers.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { receiver, SECRET } from './receiver.js';
import { fleetBox, fleetRedis, tempDir, until } from './support.js';

test('a signature covers timestamp and body; a changed body or an old timestamp is refused', () => {
  const body = JSON.stringify({ id: 'ost:1' });
  const now = 1_800_000_000;
  const signature = signWebhook(SECRET, now, body);
  assert.equal(verifyWebhook(SECRET, { signature, timestamp: String(now) }, body, { nowSec: now + 10 }), { ok: true });
  assert.equal(verifyWebhook(SECRET, { signature, timestamp: String(now) }, body.replace('1', '2'), { nowSec: now }), { ok: false, reason: 'signature mismatch' });
  assert.equal(verifyWebhook(SECRET, { signature, timestamp: String(now) }, body, { nowSec: now + 301 }), { ok: false, reason: 'timestamp outside the replay window' });
  assert.equal(verifyWebhook('another-secret-0123456789-0123456789', { signature, timestamp: String(now) }, body, { nowSec: now }), { ok: false, reason: 'signature mismatch' });
});

test.run();

const hooks = suiteNeeding('fleet webhooks', [REDIS]);

hooks('each pickup event is POSTed signed, retried with backoff after failures, and seen once by id; a dead endpoint raises an alarm', async () => {
  const redis = await fleetRedis();
  const dir = tempDir();
  const good = await receiver((n) => (n <= 3 ? 503 : 200)); // the first three attempts fail
  const dead = await receiver(() => 500);
  const box = await fleetBox('ost', dir, redis.url);
  const central = await startCentral({
    redisUrl: redis.url,
    blockMs: 100,
    webhooks: [
      { id: 'registry', url: good.url, secret: SECRET, retryBaseMs: 50, retryMaxMs: 200 },
      { id: 'broken', url: dead.url, secret: SECRET, retryBaseMs: 20, retryMaxMs: 50, alarmAfter: 3 },
    ],
  });
  try {
    for (let n = 0; n < 4; n++) await box.box.registerPickup({ reference: `V-HOOK-${n}`, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH });
    await box.box.cancelPickup('V-HOOK-3', 'staff');
    await box.link.drained();
    await until('five deliveries', () => good.seen.size >= 5 || undefined, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.is(good.seen.size, 5, 'four registrations and one cancellation');
    for (const [id, { body, times }] of good.seen) {
      assert.is(times, 1, `${id} delivered once`);
      assert.is(body.id, id, 'the body carries the stable event id');
      assert.match(id, /^ost:\d+$/);
    }
    const statuses = [...good.seen.values()].map((v) => (v.body.pickup as { reference: string; status: string }).status).sort();
    assert.equal(statuses, ['CANCELLED', 'REGISTERED', 'REGISTERED', 'REGISTERED', 'REGISTERED']);
    assert.ok(good.requests() >= 8, 'the failed attempts were retried');
    assert.equal(good.refused, []);
    assert.not.ok(JSON.stringify([...good.seen.values()]).includes('28817386'), 'no phone number in webhooks');
    const alarm = await until('the webhook alarm', async () => (await central.alarms(true)).find((a) => a.code === 'WEBHOOK_UNDELIVERABLE'), 30_000);
    assert.is(alarm.subject, 'broken');
    assert.not.ok((await central.alarms(true)).some((a) => a.key === 'WEBHOOK_UNDELIVERABLE:registry'));
  } finally {
    await central.close();
    await box.link.close();
    await box.box.close();
    await good.close();
    await dead.close();
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

hooks('a box silent too long raises a central alarm, which clears when it is heard again', async () => {
  const redis = await fleetRedis();
  const dir = tempDir();
  const box = await fleetBox('sued', dir, redis.url);
  const central = await startCentral({ redisUrl: redis.url, blockMs: 100, silentAfterMs: 1_500 });
  try {
    await box.link.drained();
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal((await central.alarms(true)).map((a) => a.code), [], 'a box that reports is not silent');
    await box.link.close();
    const alarm = await until('BOX_SILENT', async () => (await central.alarms(true)).find((a) => a.code === 'BOX_SILENT'), 30_000);
    assert.is(alarm.subject, 'sued');
    assert.ok((await central.box('sued'))!.silent);
    await box.relink();
    await until('the alarm to clear', async () => (await central.alarms(true)).length === 0, 30_000);
    const history = await central.alarms(false);
    assert.ok(history.some((a) => a.code === 'BOX_SILENT' && a.clearedAt !== null));
  } finally {
    await central.close();
    await box.link.close();
    await box.box.close();
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

hooks.run();
