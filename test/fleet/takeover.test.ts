import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { centralPubSub, startCentral, type PickupEventPayload } from '../../src/fleet/central.js';
import { CENTRAL_GROUP, eventsStream, type FleetEvent } from '../../src/fleet/protocol.js';
import { fleetClient } from '../../src/fleet/redis.js';
import { BIRTH } from '../helpers.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { fleetBox, fleetRedis, tempDir, until } from './support.js';

// One box in this process on its own SQLite file; central A in a child process, killed with
// SIGKILL in the middle of a batch; central B in this process takes over A's pending entries.

const takeover = suiteNeeding('fleet takeover', [REDIS]);

takeover('a central process killed with SIGKILL mid-batch: another claims its pending entries, nothing lost or doubled', async () => {
  const redis = await fleetRedis();
  const dir = tempDir();
  const box = await fleetBox('nord', dir, redis.url);
  const live: PickupEventPayload[] = [];
  const { pubsub, close: closePubSub } = centralPubSub(redis.url);
  const iterator = pubsub.subscribe('fleet:pickup');
  const reading = (async () => {
    for await (const e of iterator) live.push(e);
  })();
  try {
    // Events wait in the box's stream before any central runs, so that A's first batch holds them all.
    for (let n = 0; n < 8; n++) await box.box.registerPickup({ reference: `V-KILL-${n}`, documentKind: 'PASSPORT', phone: '0152 28817386', birthDate: BIRTH });
    await box.link.drained();
    const total = box.link.outbox.lastSeq;

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fleet/central-child.ts', redis.url, 'central-a', '3'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const stalledAt = await until('central A to stall mid-batch', () => /STALLED (\S+)/.exec(out)?.[1], 30_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const client = fleetClient(redis.url);
    await client.connect();
    const pendingBefore = await client.xPending(eventsStream('nord'), CENTRAL_GROUP);
    assert.ok(pendingBefore.pending >= total, `A acknowledged nothing of its batch (${pendingBefore.pending} of ${total} pending)`);

    const appliedByB: FleetEvent[] = [];
    const b = await startCentral({ redisUrl: redis.url, consumer: 'central-b', claimIdleMs: 300, claimEveryMs: 100, blockMs: 100, afterApply: (e) => appliedByB.push(e) });
    try {
      await until('B to finish what A left', async () => ((await b.projection.box('nord'))?.lastSeq ?? 0) >= total && (await client.xPending(eventsStream('nord'), CENTRAL_GROUP)).pending === 0, 30_000);
      // A applied up to the event it froze on (never acknowledged); B skipped that one, once A's
      // lease ran out, and applied the rest of the batch in sequence.
      const stalledSeq = Number(stalledAt.split(':')[1]);
      const seqsByB = appliedByB.map((e) => e.seq);
      assert.ok(seqsByB.length >= total - stalledSeq, `B applied the ${total - stalledSeq} events A never reached`);
      assert.equal(seqsByB, Array.from({ length: seqsByB.length }, (_, i) => stalledSeq + 1 + i), 'from the next one on, in sequence');
      // The centre's log: every event once, by id, in sequence.
      const log: FleetEvent[] = [];
      for (let seq = 1; seq <= total; seq++) log.push((await b.projection.event('nord', seq))!);
      assert.equal(log.map((e) => e?.id), Array.from({ length: total }, (_, i) => `nord:${i + 1}`));
      for (let n = 0; n < 8; n++) assert.is((await b.pickup(`V-KILL-${n}`))?.status, 'REGISTERED');
      // Live subscribers saw each pickup event once, from A or from B.
      await until('all live events', () => live.length >= 8 || undefined, 30_000);
      assert.equal(live.map((e) => e.reference).sort(), Array.from({ length: 8 }, (_, n) => `V-KILL-${n}`).sort());
      assert.is(new Set(live.map((e) => e.eventId)).size, live.length);
    } finally {
      client.destroy();
      await b.close();
    }
  } finally {
    await iterator.return?.();
    await reading;
    closePubSub();
    await box.link.close();
    await box.box.close();
    await redis.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

takeover.run();
