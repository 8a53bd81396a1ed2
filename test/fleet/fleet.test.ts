import { rmSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { startCentral, type Central, type PickupEventPayload } from '../../src/fleet/central.js';
import { commandsStream, encodeCommand, type FleetEvent } from '../../src/fleet/protocol.js';
import { fleetClient } from '../../src/fleet/redis.js';
import { BIRTH, PHONE, authenticate } from '../helpers.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { fleetBox, fleetRedis, tempDir, until, type FleetBoxUnderTest, type FleetRedis } from './support.js';

// Three boxes in this process, each on its own SQLite file and its own simulated clock, linked to
// a real redis-server the test starts; one central service in this process on the same Redis.

const fleet = suiteNeeding('fleet', [REDIS], {} as { redis: FleetRedis; dir: string; boxes: FleetBoxUnderTest[]; central: Central; applied: FleetEvent[] });

fleet.before(async (ctx) => {
  ctx.redis = await fleetRedis();
  ctx.dir = tempDir();
  ctx.boxes = [];
  for (const id of ['ost', 'mitte', 'sued']) ctx.boxes.push(await fleetBox(id, ctx.dir, ctx.redis.url));
  ctx.applied = [];
  ctx.central = await startCentral({ redisUrl: ctx.redis.url, claimIdleMs: 1_000, claimEveryMs: 200, blockMs: 100, afterApply: (e) => ctx.applied.push(e) });
  for (const b of ctx.boxes) await b.link.drained();
});

fleet.after(async (ctx) => {
  await ctx.central?.close();
  for (const b of ctx.boxes ?? []) {
    await b.link.close();
    await b.box.close();
  }
  await ctx.redis?.dispose();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

const registration = (reference: string) => ({ reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH });

/** Staff loads the pickup at the box: the door opens, the document goes in, the door shuts. */
async function load(b: FleetBoxUnderTest, reference: string): Promise<string> {
  const { compartmentId } = await b.box.loadPickup(reference, 'staff-anna');
  await b.box.idle();
  assert.ok(b.hw.locks.openDoor(compartmentId), 'the compartment opened for loading');
  await b.box.idle();
  b.hw.locks.closeDoor(compartmentId);
  await b.box.idle();
  return compartmentId;
}

fleet('a pickup registered through the centre is loaded at the chosen box, collected, and the centre shows COLLECTED', async ({ boxes, central }) => {
  const [ost, mitte, sued] = boxes as [FleetBoxUnderTest, FleetBoxUnderTest, FleetBoxUnderTest];
  const record = await central.registerPickup('mitte', registration('V-FLEET-1'), 20_000);
  assert.is(central.commandState(record), 'DONE');
  assert.equal(record.outcome && record.outcome.ok && record.outcome.value.status, 'REGISTERED');
  assert.ok(mitte.box.pickup('V-FLEET-1'), 'the chosen box has the pickup');
  assert.is(ost.box.pickup('V-FLEET-1'), undefined);
  assert.is(sued.box.pickup('V-FLEET-1'), undefined);

  const compartmentId = await load(mitte, 'V-FLEET-1');
  const sessionId = await authenticate(mitte, '246810');
  // Registered without an old document, the session goes straight to the birth date.
  mitte.box.sessionInput(sessionId, { type: 'birthDate', birthDate: '12.04.1980' });
  await mitte.box.idle();
  mitte.hw.locks.openDoor(compartmentId);
  await mitte.box.idle();
  assert.is(mitte.box.pickup('V-FLEET-1')!.status, 'COLLECTED');

  const seen = await until('the centre to see COLLECTED', async () => {
    const p = await central.pickup('V-FLEET-1');
    return p?.status === 'COLLECTED' ? p : undefined;
  });
  assert.is(seen.boxId, 'mitte');
  assert.is(seen.compartmentId, null, 'a collected pickup holds no compartment');
  const byBox = await central.pickups({ boxId: 'mitte', status: 'COLLECTED' });
  assert.equal(byBox.map((p) => p.reference), ['V-FLEET-1']);
  assert.equal(await central.pickups({ boxId: 'ost' }), []);
  const ended = await until('the session outcome', () => ctxEvents(central, 'mitte').then((es) => es.find((e) => e.type === 'session.ended' && e.data.outcome === 'collected')));
  assert.is(ended.data.compartmentId, compartmentId);
  // No personal data left the box: not in events, not in the centre's store.
  const everything = JSON.stringify(await ctxEvents(central, 'mitte'));
  for (const secret of [PHONE, '28817386', BIRTH, '12.04.1980', '246810']) assert.not.ok(everything.includes(secret), `the fleet events do not contain ${secret}`);
});

async function ctxEvents(central: Central, boxId: string): Promise<FleetEvent[]> {
  const box = await central.projection.box(boxId);
  const out: FleetEvent[] = [];
  for (let seq = 1; seq <= (box?.lastSeq ?? 0); seq++) {
    const e = await central.projection.event(boxId, seq);
    if (e) out.push(e);
  }
  return out;
}

fleet('with Redis stopped the boxes keep serving; when it is back the centre has every event once and in per-box order', async ({ redis, boxes, central, applied }) => {
  const live: PickupEventPayload[] = [];
  const iterator = central.pubsub.subscribe('fleet:pickup');
  const reading = (async () => {
    for await (const e of iterator) live.push(e);
  })();
  await new Promise((r) => setTimeout(r, 100));
  // Everything sent before the outage has reached the centre, so what it applies next is new: in its
  // store, and through its apply hook, which runs after the store has it (cleared in between, the
  // list would start with the last event before the outage). The boxes keep sending (health every
  // 100 ms): the list is cleared only when no box has sent more since the events waited for.
  let before: Map<string, number>;
  for (;;) {
    const sent = new Map(boxes.map((b) => [b.id, b.link.outbox.lastSeq]));
    for (const b of boxes) {
      const seq = sent.get(b.id)!;
      await until(`the centre to reach ${b.id}:${seq} before the outage`, async () => ((await central.projection.box(b.id))?.lastSeq ?? 0) >= seq, 30_000);
      if (seq > 0) await until(`the centre's apply hook to see ${b.id}:${seq}`, () => applied.some((e) => e.boxId === b.id && e.seq >= seq), 30_000);
    }
    if (boxes.every((b) => b.link.outbox.lastSeq === sent.get(b.id))) {
      applied.length = 0;
      before = sent;
      break;
    }
  }

  await redis.stop();
  for (const [i, b] of boxes.entries()) {
    for (let n = 0; n < 3; n++) {
      const reference = `V-OFF-${b.id}-${n}`;
      await b.box.registerPickup(registration(reference), 'staff-at-the-box');
      await load(b, reference);
      assert.is(b.box.pickup(reference)!.status, 'READY', `box ${i} serves while Redis is down`);
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const b of boxes) assert.ok(b.link.outbox.lastSeq > b.link.outbox.sentSeq, `box ${b.id} holds unsent events`);
  assert.not.ok(boxes[0]!.link.status().connected);

  await redis.start();
  for (const b of boxes) await b.link.drained(30_000);
  for (const b of boxes) {
    const lastSeq = b.link.outbox.lastSeq;
    // The centre's own store client reconnects with backoff: a read while it is still offline is "not yet".
    await until(`the centre to reach ${b.id}:${lastSeq}`, async () => ((await central.projection.box(b.id).catch(() => undefined))?.lastSeq ?? 0) >= lastSeq, 30_000);
    // Every event once, in order: the centre's log has each sequence number exactly once, with
    // its stable id, and this (single) central process applied them in sequence order.
    const events = await ctxEvents(central, b.id);
    assert.ok(events.length >= lastSeq);
    assert.equal(events.map((e) => e.seq), Array.from({ length: events.length }, (_, i) => i + 1));
    assert.equal(events.map((e) => e.id), events.map((e) => `${b.id}:${e.seq}`));
    const firstSeen = new Map<number, number>();
    applied.filter((e) => e.boxId === b.id).forEach((e, i) => firstSeen.has(e.seq) || firstSeen.set(e.seq, i));
    const order = [...firstSeen.entries()].sort((x, y) => x[1] - y[1]).map(([seq]) => seq);
    assert.equal(order, [...order].sort((x, y) => x - y), `box ${b.id}: applied in per-box order`);
    assert.is(order[0], before.get(b.id)! + 1, `box ${b.id}: nothing skipped after the outage`);
    for (let n = 0; n < 3; n++) assert.is((await central.pickup(`V-OFF-${b.id}-${n}`))?.status, 'READY');
  }
  // Live subscribers saw each pickup event once, by id.
  await until('the live events', () => live.filter((e) => e.reference.startsWith('V-OFF-')).length >= 9 * 3 || undefined, 5_000).catch(() => undefined);
  const offline = live.filter((e) => e.reference.startsWith('V-OFF-'));
  assert.is(new Set(offline.map((e) => e.eventId)).size, offline.length, 'no live event twice');
  assert.ok(offline.some((e) => e.status === 'READY'));
  // The once-only mark is set for events that are published live, and costs no round trip for the others.
  const client = fleetClient(redis.url);
  await client.connect();
  try {
    const events = await ctxEvents(central, boxes[0]!.id);
    assert.ok(events.some((e) => e.type !== 'pickup.changed' && !e.type.startsWith('alarm.')), 'the box sent events that are not published live');
    for (const e of events) assert.is((await client.exists(`fleet:seen:${e.id}`)) === 1, e.type === 'pickup.changed' || e.type.startsWith('alarm.'), `${e.id} (${e.type})`);
  } finally {
    client.destroy();
  }
  await iterator.return?.();
  await reading;
});

fleet('a command for an offline box waits and runs once when the box returns; one that outlives its time expires with a clear outcome', async ({ redis, boxes, central }) => {
  const sued = boxes[2]!;
  await sued.link.close();
  const waiting = await central.registerPickup('sued', registration('V-LATER-1'), 300);
  assert.is(central.commandState(waiting), 'PENDING');
  const doomed = await central.sendCommand('sued', 'register', { input: registration('V-LATER-2') }, 200);
  await new Promise((r) => setTimeout(r, 400));
  assert.is(central.commandState((await central.command(doomed.id))!), 'EXPIRED', 'the centre reports the expiry before the box is back');
  assert.is(sued.box.pickup('V-LATER-1'), undefined, 'nothing ran while the box was away');

  await sued.relink();
  const done = await central.awaitOutcome(waiting.id, 20_000);
  assert.is(central.commandState(done), 'DONE');
  const expired = await central.awaitOutcome(doomed.id, 20_000);
  assert.equal(expired.outcome && !expired.outcome.ok && expired.outcome.code, 'COMMAND_EXPIRED');
  assert.ok(sued.box.pickup('V-LATER-1'));
  assert.is(sued.box.pickup('V-LATER-2'), undefined, 'the expired command did not run');

  // Delivered again (the same command id on the stream): it does not run a second time.
  const client = fleetClient(redis.url);
  await client.connect();
  await client.xAdd(commandsStream('sued'), '*', encodeCommand({ id: waiting.id, boxId: 'sued', type: 'register', payload: { input: registration('V-LATER-1') }, issuedAt: waiting.issuedAt, expiresAt: waiting.expiresAt }));
  await until('the box to take the repeated command', async () => (await client.xLen(commandsStream('sued'))) === 0);
  client.destroy();
  await sued.link.drained();
  await until('the centre to catch up', async () => ((await central.projection.box('sued'))?.lastSeq ?? 0) >= sued.link.outbox.lastSeq);
  const outcomes = (await ctxEvents(central, 'sued')).filter((e) => e.type === 'command.outcome' && e.data.commandId === waiting.id);
  assert.is(outcomes.length, 1, 'one outcome for one command id');
  assert.is(sued.box.pickups().filter((p) => p.reference === 'V-LATER-1').length, 1);
});

fleet.run();
