import { rmSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { startCentral, type Central } from '../../src/fleet/central.js';
import type { FleetEvent } from '../../src/fleet/protocol.js';
import { createCentralServer } from '../../src/fleet/server.js';
import { BIRTH } from '../helpers.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { fleetBox, fleetRedis, tempDir, until, type FleetBoxUnderTest, type FleetRedis } from './support.js';

// The central GraphQL API over a real socket: two boxes in this process (own SQLite files), two
// central processes' worth of consumers in this process sharing the group, and the server of the
// first; live events reach its subscribers through Redis whichever central applied them.

const TOKENS = { integration: 'integration-token-0123456789', monitor: 'monitor-token-0123456789ab' };
interface Ctx {
  redis: FleetRedis;
  dir: string;
  boxes: FleetBoxUnderTest[];
  one: Central;
  two: Central;
  appliedBy: Map<string, string>;
  server: ReturnType<typeof createCentralServer>;
  url: string;
}
const api = suiteNeeding('central GraphQL', [REDIS], {} as Ctx);

api.before(async (ctx) => {
  ctx.redis = await fleetRedis();
  ctx.dir = tempDir();
  ctx.boxes = [await fleetBox('west', ctx.dir, ctx.redis.url), await fleetBox('nord', ctx.dir, ctx.redis.url)];
  for (const b of ctx.boxes) await b.link.drained();
  ctx.appliedBy = new Map();
  const mark = (who: string) => (e: FleetEvent) => ctx.appliedBy.set(e.id, who);
  ctx.one = await startCentral({ redisUrl: ctx.redis.url, consumer: 'one', blockMs: 100, claimEveryMs: 200, afterApply: mark('one') });
  ctx.two = await startCentral({ redisUrl: ctx.redis.url, consumer: 'two', blockMs: 100, claimEveryMs: 200, afterApply: mark('two') });
  ctx.server = createCentralServer(ctx.one, { tokens: TOKENS });
  ctx.url = (await ctx.server.listen(0)).url;
});

api.after(async (ctx) => {
  await ctx.server?.close();
  await ctx.one?.close();
  await ctx.two?.close();
  for (const b of ctx.boxes ?? []) {
    await b.link.close();
    await b.box.close();
  }
  await ctx.redis?.dispose();
  if (ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

async function gql(url: string, query: string, token: string | null, variables: Record<string, unknown> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as { data?: Record<string, any>; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

const REGISTER = `mutation ($boxId: String!, $input: FleetRegisterPickupInput!) { registerPickup(boxId: $boxId, input: $input, waitMs: 20000) { id boxId state status code reference } }`;
const input = (reference: string, phone = '0152 28817386') => ({ reference, documentKind: 'ID_CARD', phone, birthDate: BIRTH });

api('an integration registers a pickup at a chosen box through the centre and gets the box’s answer', async ({ url, boxes }) => {
  const r = await gql(url, REGISTER, TOKENS.integration, { boxId: 'nord', input: input('V-API-1') });
  assert.equal(r.errors, undefined);
  assert.equal(r.data!.registerPickup, { id: r.data!.registerPickup.id, boxId: 'nord', state: 'DONE', status: 'REGISTERED', code: null, reference: 'V-API-1' });
  assert.ok(boxes[1]!.box.pickup('V-API-1'));
  assert.is(boxes[0]!.box.pickup('V-API-1'), undefined);
  const again = await gql(url, REGISTER, TOKENS.integration, { boxId: 'nord', input: input('V-API-1') });
  assert.is(again.data!.registerPickup.state, 'FAILED');
  assert.is(again.data!.registerPickup.code, 'PICKUP_EXISTS');
});

api('roles and bad input are refused before anything is queued', async ({ url, boxes }) => {
  const asMonitor = await gql(url, REGISTER, TOKENS.monitor, { boxId: 'nord', input: input('V-API-2') });
  assert.is(asMonitor.errors?.[0]?.extensions?.code, 'FORBIDDEN');
  const anonymous = await gql(url, '{ boxes { id } }', null);
  assert.is(anonymous.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  const badPhone = await gql(url, REGISTER, TOKENS.integration, { boxId: 'nord', input: input('V-API-3', '0211 123456') });
  assert.is(badPhone.errors?.[0]?.extensions?.code, 'NOT_A_MOBILE');
  const unknownBox = await gql(url, REGISTER, TOKENS.integration, { boxId: 'nowhere', input: input('V-API-4') });
  assert.is(unknownBox.errors?.[0]?.extensions?.code, 'BOX_UNKNOWN');
  await new Promise((r) => setTimeout(r, 200));
  for (const ref of ['V-API-2', 'V-API-3', 'V-API-4']) assert.is(boxes[1]!.box.pickup(ref), undefined);
});

api('pickups are queried across boxes by reference, status and box; boxes show lag, contact and health', async ({ url, one }) => {
  await gql(url, REGISTER, TOKENS.integration, { boxId: 'west', input: input('V-API-5') });
  await until('the projection', async () => (await one.pickup('V-API-5'))?.status === 'REGISTERED');
  const q = await gql(url, `{ all: pickups(status: "REGISTERED") { reference boxId } west: pickups(boxId: "west") { reference } one: pickup(reference: "V-API-1") { boxId status } boxes { id lastSeq backlog silent lastContact health auditHead } }`, TOKENS.monitor);
  assert.equal(q.errors, undefined);
  assert.equal(q.data!.all.map((p: { reference: string }) => p.reference), ['V-API-1', 'V-API-5']);
  assert.equal(q.data!.west, [{ reference: 'V-API-5' }]);
  assert.equal(q.data!.one, { boxId: 'nord', status: 'REGISTERED' });
  const boxes = q.data!.boxes as Array<{ id: string; lastSeq: number; silent: boolean; lastContact: string; health: string; auditHead: string }>;
  assert.equal(boxes.map((b) => b.id), ['nord', 'west']);
  for (const b of boxes) {
    assert.ok(b.lastSeq >= 3, `${b.id} lag is known: ${b.lastSeq}`);
    assert.not.ok(b.silent);
    assert.ok(Date.now() - Date.parse(b.lastContact) < 10_000);
    assert.ok(JSON.parse(b.health).devices.shredder, 'device health arrived');
    assert.match(b.auditHead, /^\d+:[0-9a-f]{64}$/);
  }
});

api('a subscriber of one central process gets the pickup events of every box, whichever process applied them', async ({ url, boxes, appliedBy }) => {
  const controller = new AbortController();
  const res = await fetch(`${url}?query=${encodeURIComponent('subscription { pickupEvents { eventId boxId reference status } }')}`, {
    headers: { accept: 'text/event-stream', authorization: `Bearer ${TOKENS.integration}` },
    signal: controller.signal,
  });
  assert.is(res.status, 200);
  const received: Array<{ eventId: string; boxId: string; reference: string; status: string }> = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data:'));
        if (data && data.length > 6) received.push(JSON.parse(data.slice(5)).data.pickupEvents);
      }
    }
  })().catch(() => {});
  await new Promise((r) => setTimeout(r, 300));
  const refs: string[] = [];
  for (let n = 0; n < 6; n++) {
    const b = boxes[n % 2]!;
    const reference = `V-LIVE-${n}`;
    refs.push(reference);
    await b.box.registerPickup(input(reference), 'staff');
  }
  await until('every live event', () => received.filter((e) => e.reference.startsWith('V-LIVE-')).length >= 6 || undefined, 30_000);
  controller.abort();
  await reading;
  const live = received.filter((e) => e.reference.startsWith('V-LIVE-'));
  assert.equal(live.map((e) => e.reference).sort(), refs.sort());
  assert.equal(new Set(live.map((e) => e.boxId)), new Set(['west', 'nord']));
  assert.is(new Set(live.map((e) => e.eventId)).size, live.length, 'each event once');
  // (A subscriber may hear an event before the process that applied it has run its afterApply.)
  await until('every applier known', () => live.every((e) => appliedBy.has(e.eventId)) || undefined, 10_000);
  const appliers = new Set(live.map((e) => appliedBy.get(e.eventId)));
  assert.ok(appliers.size >= 1 && [...appliers].every((a) => a === 'one' || a === 'two'), `applied by ${[...appliers].join(', ')}`);
});

api('graphql-ws on the centre: a subscriber of one process gets every box’s pickup events once; a token that grants nothing is closed with 4403', async ({ url, boxes }) => {
  const wsUrl = url.replace(/^http/, 'ws');
  const received: Array<{ eventId: string; boxId: string; reference: string }> = [];
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { authorization: `Bearer ${TOKENS.monitor}` } });
  const errors: unknown[] = [];
  const ready = new Promise<void>((resolve) => client.on('connected', () => resolve()));
  const unsubscribe = client.subscribe<{ pickupEvents: { eventId: string; boxId: string; reference: string } }>(
    { query: 'subscription { pickupEvents { eventId boxId reference } }' },
    { next: (r) => (r.data ? received.push(r.data.pickupEvents) : errors.push(r.errors)), error: (e) => errors.push(e), complete: () => {} },
  );
  try {
    await ready;
    await new Promise((r) => setTimeout(r, 300));
    const refs = ['V-WS-0', 'V-WS-1', 'V-WS-2', 'V-WS-3'];
    for (const [n, reference] of refs.entries()) await boxes[n % 2]!.box.registerPickup(input(reference), 'staff');
    await until('every event over graphql-ws', () => received.filter((e) => e.reference.startsWith('V-WS-')).length >= 4 || undefined, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const live = received.filter((e) => e.reference.startsWith('V-WS-'));
    assert.equal(live.map((e) => e.reference).sort(), refs);
    assert.is(new Set(live.map((e) => e.eventId)).size, live.length, 'each event once');
    assert.equal(errors, []);
  } finally {
    unsubscribe();
    await client.dispose();
  }

  const closed = await new Promise<number>((resolve) => {
    const bad = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { authorization: 'Bearer not-a-token-of-this-centre' }, on: { closed: (e) => resolve((e as { code: number }).code) } });
    bad.on('closed', () => void bad.dispose());
  });
  assert.is(closed, 4403);
});

api('graphql-ws on the centre checks a subscription as the box server does: a parse or validation failure comes back coded, nothing runs', async ({ url }) => {
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { authorization: `Bearer ${TOKENS.monitor}` } });
  const codesOf = (query: string) =>
    new Promise<unknown[]>((resolve) => {
      const data: unknown[] = [];
      client.subscribe(
        { query },
        {
          next: (r) => void data.push(r.data),
          error: (errors) => resolve([...data, ...(errors as Array<{ extensions?: { code?: string } }>).map((e) => e.extensions?.code)]),
          complete: () => resolve(data),
        },
      );
    });
  try {
    assert.equal(await codesOf('subscription { pickupEvents { eventId'), ['GRAPHQL_PARSE_FAILED']);
    assert.equal(await codesOf('subscription { pickupEvents { noSuchField } }'), ['GRAPHQL_VALIDATION_FAILED']);
  } finally {
    await client.dispose();
  }
});

api.run();
