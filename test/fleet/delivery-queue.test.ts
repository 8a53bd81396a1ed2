import Keyv from 'keyv';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fleetClient } from '../../src/fleet/redis.js';
import { redisDeliveryQueue, storeDeliveryQueue, WebhookOutbox, type DeliveryQueue } from '../../src/fleet/webhooks.js';
import type { FleetEvent } from '../../src/fleet/protocol.js';
import { REDIS, suiteNeeding, type Needed } from '../support/requires.js';
import { fleetRedis } from './support.js';

// One contract over both webhook delivery queues the shared WebhookOutbox runs on: the centre's
// (Redis sorted set and locks) and a box's (its own store).

const implementations: Array<{ name: string; needs: Needed[]; open: () => Promise<{ queue: DeliveryQueue; close: () => Promise<void> }> }> = [
  { name: 'a box’s store', needs: [], open: async () => ({ queue: storeDeliveryQueue(new Keyv()), close: async () => {} }) },
  {
    name: 'the centre’s Redis',
    needs: [REDIS],
    open: async () => {
      const redis = await fleetRedis();
      const client = fleetClient(redis.url);
      await client.connect();
      return {
        queue: redisDeliveryQueue(client),
        close: async () => {
          client.destroy();
          await redis.dispose();
        },
      };
    },
  },
];

for (const impl of implementations) {
  const contract = suiteNeeding(`webhook delivery queue: ${impl.name}`, impl.needs);

  contract('due lists what is due, earliest first, per integration and up to the limit; add keeps the first due time, reschedule moves it', async () => {
    const { queue, close } = await impl.open();
    try {
      await queue.add('registry', 'e3', 300);
      await queue.add('registry', 'e1', 100);
      await queue.add('registry', 'e2', 200);
      await queue.add('registry', 'e1', 900); // queued already: stays due at 100
      await queue.add('monitor', 'e9', 50);
      assert.equal(await queue.due('registry', 250, 10), ['e1', 'e2']);
      assert.equal(await queue.due('registry', 1_000, 2), ['e1', 'e2']);
      await queue.reschedule('registry', 'e1', 500);
      assert.equal(await queue.due('registry', 1_000, 10), ['e2', 'e3', 'e1']);
      await queue.remove('registry', 'e2');
      assert.equal(await queue.due('registry', 1_000, 10), ['e3', 'e1']);
      assert.equal(await queue.due('monitor', 1_000, 10), ['e9']);
    } finally {
      await close();
    }
  });

  contract('a delivery is claimed by one poster at a time, and can be claimed again once released', async () => {
    const { queue, close } = await impl.open();
    try {
      assert.ok(await queue.claim('registry', 'e1', 10_000));
      assert.not.ok(await queue.claim('registry', 'e1', 10_000), 'held');
      assert.ok(await queue.claim('registry', 'e2', 10_000), 'another delivery is free');
      await queue.release('registry', 'e1');
      assert.ok(await queue.claim('registry', 'e1', 10_000));
    } finally {
      await close();
    }
  });

  contract.run();
}

test('the outbox queues an event handed in again once: its attempts are kept, and once delivered it is not queued again', async () => {
  const kv = new Keyv();
  const queue = storeDeliveryQueue(kv);
  const hooks = ['registry', 'monitor'].map((id) => ({ id, url: 'http://127.0.0.1:1/', secret: 'x'.repeat(32) }));
  const outbox = new WebhookOutbox(kv, queue, hooks, { log: () => {}, raise: async () => {}, clear: async () => {}, now: () => 1_000 });
  const e: FleetEvent = { id: 'ost:7', boxId: 'ost', seq: 7, type: 'pickup.changed', at: 1_800_000_000_000, data: { reference: 'V-1', status: 'READY' } };
  await outbox.enqueue(e);
  assert.equal(await queue.due('registry', 1_000, 10), ['ost:7']);
  assert.equal(await queue.due('monitor', 1_000, 10), ['ost:7']);
  // A failed attempt for the registry; the monitor has it delivered.
  await kv.set('wh:out:registry:ost:7', { ...(await kv.get('wh:out:registry:ost:7')), attempts: 3 });
  await kv.set('wh:done:monitor:ost:7', 1_000);
  await kv.delete('wh:out:monitor:ost:7');
  await queue.remove('monitor', 'ost:7');
  await outbox.enqueue(e);
  assert.is((await kv.get<{ attempts: number }>('wh:out:registry:ost:7'))?.attempts, 3, 'the attempts so far are kept');
  assert.equal(await queue.due('registry', 1_000, 10), ['ost:7']);
  assert.equal(await queue.due('monitor', 1_000, 10), [], 'a delivered event is not queued again');
  assert.is(await kv.get('wh:out:monitor:ost:7'), undefined);
});

test.run();
