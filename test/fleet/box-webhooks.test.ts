import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { startBoxWebhooks } from '../../src/fleet/box-webhooks.js';
import { startConfiguredBoxWebhooks } from '../../src/fleet/cli.js';
import { demoCompartments } from '../../src/config.js';
import { BIRTH, MONDAY_10AM, testBox, type TestBox } from '../helpers.js';
import { receiver, SECRET } from './receiver.js';
import { tempDir, until } from './support.js';

// Webhooks posted by a box itself (no central service, no Redis): the centre's WebhookOutbox on
// the box's own SQLite file, against a real local HTTP receiver that verifies every signature.

const openBox = (file: string): Promise<TestBox> =>
  testBox({ storage: `sqlite://${file}`, name: 'Box ost', hoursPreset: 'always', compartments: demoCompartments(8) }, { clock: new SimulatedClock(MONDAY_10AM) });

test('a box posts each pickup event signed, retries with backoff, raises its own alarm, and after a restart between attempts each event arrives once by id', async () => {
  const dir = tempDir();
  const file = join(dir, 'ost.sqlite');
  let accepting = false; // the receiver is down until the box has restarted
  const good = await receiver(() => (accepting ? 200 : 503));
  const hook = { id: 'registry', url: good.url, secret: SECRET, retryBaseMs: 100, retryMaxMs: 400, alarmAfter: 2 };
  let t = await openBox(file);
  let hooks = await startBoxWebhooks(t.box, { boxId: 'ost', hooks: [hook] });
  try {
    for (let n = 0; n < 3; n++) await t.box.registerPickup({ reference: `V-BOXHOOK-${n}`, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH });
    await t.box.cancelPickup('V-BOXHOOK-2', 'staff');
    await hooks.flush();
    await until('every event tried twice and the box alarm', async () => {
      await t.box.idle();
      return good.requests() >= 8 && t.box.alarms(true).some((a) => a.code === 'WEBHOOK_UNDELIVERABLE');
    }, 30_000);
    assert.is(good.seen.size, 0, 'nothing accepted yet');

    // The box restarts between attempts: deliveries, attempts and the queue are in its file.
    await hooks.close();
    await t.box.close();
    t = await openBox(file);
    assert.ok(t.box.alarms(true).some((a) => a.code === 'WEBHOOK_UNDELIVERABLE'), 'the alarm survives the restart');
    const attemptsBefore = good.requests();
    accepting = true;
    hooks = await startBoxWebhooks(t.box, { boxId: 'ost', hooks: [hook] });

    await until('four deliveries', () => good.seen.size >= 4 || undefined, 30_000);
    await new Promise((r) => setTimeout(r, 600)); // room for a duplicate to show up
    assert.equal([...good.seen.keys()].sort(), ['ost:wh:1', 'ost:wh:2', 'ost:wh:3', 'ost:wh:4']);
    for (const [id, { body, times }] of good.seen) {
      assert.is(times, 1, `${id} delivered once`);
      assert.is(body.id, id);
      assert.is(body.boxId, 'ost');
      assert.not.ok(JSON.stringify(body).includes('28817386'), 'no phone number in a webhook');
    }
    const statuses = [...good.seen.values()].map(({ body }) => `${(body.pickup as { reference: string }).reference}:${(body.pickup as { status: string }).status}`).sort();
    assert.equal(statuses, ['V-BOXHOOK-0:REGISTERED', 'V-BOXHOOK-1:REGISTERED', 'V-BOXHOOK-2:CANCELLED', 'V-BOXHOOK-2:REGISTERED']);
    assert.equal(good.refused, [], 'every delivery carried a valid signature');
    assert.is(good.requests() - attemptsBefore, 4, 'after the restart one attempt per event, each accepted');
    await until('the alarm cleared by a success', async () => {
      await t.box.idle();
      return !t.box.alarms(true).some((a) => a.code === 'WEBHOOK_UNDELIVERABLE');
    }, 10_000);
    // A new event after the restart continues the box's webhook sequence.
    await t.box.registerPickup({ reference: 'V-BOXHOOK-9', documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH });
    await until('the fifth delivery', () => good.seen.has('ost:wh:5') || undefined, 10_000);
  } finally {
    await hooks.close();
    await t.box.close();
    await good.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pickup change committed while no webhook was queued (the box stopped in between) is sent at the next start as "recovered", once', async () => {
  const dir = tempDir();
  const file = join(dir, 'ost.sqlite');
  const good = await receiver(() => 200);
  const hook = { id: 'registry', url: good.url, secret: SECRET, retryBaseMs: 100, retryMaxMs: 400 };
  let t = await openBox(file);
  let hooks = await startBoxWebhooks(t.box, { boxId: 'ost', hooks: [hook] });
  const pickups = () => [...good.seen.values()].map(({ body }) => body.pickup as { reference: string; status: string; change: string });
  try {
    await t.box.registerPickup({ reference: 'V-REC-0', documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH });
    await until('the first delivery', () => good.seen.size >= 1 || undefined, 10_000);
    // The window of a kill: committed, its webhook not yet queued. Here: nothing listens meanwhile.
    await hooks.close();
    await t.box.registerPickup({ reference: 'V-REC-1', documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH });
    await t.box.advance(1_000);
    await t.box.cancelPickup('V-REC-0', 'staff');
    await t.box.close();

    t = await openBox(file);
    hooks = await startBoxWebhooks(t.box, { boxId: 'ost', hooks: [hook] });
    await until('the two missed changes', () => good.seen.size >= 3 || undefined, 10_000);
    assert.equal(pickups().map((p) => `${p.reference}:${p.status}:${p.change}`).sort(), ['V-REC-0:CANCELLED:recovered', 'V-REC-0:REGISTERED:registered', 'V-REC-1:REGISTERED:recovered']);
    // Another restart with nothing missed sends nothing again.
    await hooks.close();
    await t.box.close();
    t = await openBox(file);
    hooks = await startBoxWebhooks(t.box, { boxId: 'ost', hooks: [hook] });
    await t.box.registerPickup({ reference: 'V-REC-2', documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH });
    await until('the next live change', () => good.seen.size >= 4 || undefined, 10_000);
    await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show up
    assert.is(good.seen.size, 4, 'one more delivery, nothing sent again');
    assert.ok(pickups().some((p) => p.reference === 'V-REC-2' && p.change === 'registered'));
  } finally {
    await hooks.close();
    await t.box.close();
    await good.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a box refuses a webhook with a short secret or a bad url before it starts (INVALID_CONFIG)', async () => {
  const t = await testBox();
  try {
    for (const hook of [
      { id: 'registry', url: 'http://127.0.0.1:1/hook', secret: 'short' },
      { id: 'registry', url: 'ftp://127.0.0.1/hook', secret: SECRET },
      { id: 'bad id', url: 'http://127.0.0.1:1/hook', secret: SECRET },
    ]) {
      let code = 'accepted';
      try {
        await startBoxWebhooks(t.box, { boxId: 'ost', hooks: [hook] });
      } catch (error) {
        code = (error as { code: string }).code;
      }
      assert.is(code, 'INVALID_CONFIG', JSON.stringify(hook));
    }
  } finally {
    await t.box.close();
  }
});

test('from the configuration file: "webhooks" starts them with the fleet box id as the id prefix; a malformed section is INVALID_CONFIG', async () => {
  const t = await testBox();
  const good = await receiver(() => 200);
  try {
    let code = 'accepted';
    try {
      await startConfiguredBoxWebhooks(t.box, { webhooks: { id: 'registry' } }, {}, () => {});
    } catch (error) {
      code = (error as { code: string }).code;
    }
    assert.is(code, 'INVALID_CONFIG');
    assert.is(await startConfiguredBoxWebhooks(t.box, {}, {}, () => {}), null, 'none configured, none started');
    const hooks = (await startConfiguredBoxWebhooks(t.box, { fleet: { boxId: 'mitte' }, webhooks: [{ id: 'registry', url: good.url, secret: SECRET }] }, {}, () => {}))!;
    try {
      await t.box.registerPickup({ reference: 'V-CONF-1', documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH });
      await until('the delivery', () => good.seen.has('mitte:wh:1') || undefined, 10_000);
    } finally {
      await hooks.close();
    }
  } finally {
    await t.box.close();
    await good.close();
  }
});

test.run();
