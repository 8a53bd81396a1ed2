import Keyv from 'keyv';
import * as assert from 'uvu/assert';
import { fleetClient } from '../../src/fleet/redis.js';
import { redisDeliveryQueue, storeDeliveryQueue, type DeliveryQueue } from '../../src/fleet/webhooks.js';
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
