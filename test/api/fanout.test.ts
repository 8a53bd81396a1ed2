import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMetrics } from '../ops/prometheus.js';
import { ENGINES, MONITOR, STAFF, sleep, start, type Running } from './support.js';

// Shared fan-out over graphql-ws (src/server/fanout.ts), on both servers through real sockets:
// subscribers of the same document, variables and grant share one stream; each still gets every
// event under its own subscription id, leaving does not disturb the others, a different grant or
// different variables get a stream of their own, and the last subscriber to leave ends the stream.

const WATCH = 'subscription Watch { compartmentChanged { id inService } }';
const WATCH_ONE = 'subscription WatchOne($id: ID) { compartmentChanged(id: $id) { id inService } }';

interface Seen {
  events: Array<{ id: string; inService: boolean }>;
  errors: unknown[];
  completed: boolean;
  stop(): void;
}

function watch(s: Running, token: string, query: string, variables?: Record<string, unknown>): Seen {
  const seen: Seen = { events: [], errors: [], completed: false, stop: () => {} };
  seen.stop = s.ws(token).subscribe<{ compartmentChanged: { id: string; inService: boolean } }>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (r) => {
        if (r.errors) seen.errors.push(...r.errors);
        if (r.data) seen.events.push(r.data.compartmentChanged);
      },
      error: (e) => void seen.errors.push(e),
      complete: () => void (seen.completed = true),
    },
  );
  return seen;
}

async function gauges(s: Running): Promise<{ streams: number; subscribers: number }> {
  const res = await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${MONITOR}` } });
  const samples = parseMetrics(await res.text());
  const get = (name: string) => samples.find((x) => x.name === name)?.value ?? NaN;
  return { streams: get('ausgabebox_graphql_subscriptions_live'), subscribers: get('ausgabebox_graphql_ws_subscribers') };
}

/** Polls until `accept` holds (real sockets: joins and leaves take a few event-loop turns). */
async function until<T>(read: () => Promise<T>, accept: (v: T) => boolean, what: string, timeoutMs = 3_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (accept(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(v)}`);
    await sleep(20);
  }
}

async function setService(s: Running, id: string, inService: boolean) {
  const out = await s.gql(`mutation($id: ID!, $on: Boolean!) { setCompartmentService(id: $id, inService: $on, reason: "hinge") { inService } }`, { id, on: inService }, STAFF);
  assert.equal(out.errors, undefined);
}

for (const engine of ENGINES) {
  const t = suite(`fan-out (${engine})`);

  t('identical subscriptions share one stream; every subscriber gets every event; leaving and grants behave', async () => {
    const s = await start(engine);
    try {
      const before = await gauges(s);
      const a = watch(s, MONITOR, WATCH);
      const b = watch(s, MONITOR, WATCH);
      const c = watch(s, MONITOR, WATCH);
      const staff = watch(s, STAFF, WATCH);
      const onlyA02 = watch(s, MONITOR, WATCH_ONE, { id: 'A02' });
      // three monitors share one stream; staff (another grant) and other variables get their own
      await until(() => gauges(s), (g) => g.subscribers === before.subscribers + 5 && g.streams === before.streams + 3, 'five subscribers on three streams');

      await setService(s, 'A01', false);
      await until(async () => [a, b, c, staff].every((x) => x.events.length === 1), Boolean, 'the first change at every A01 watcher');
      for (const x of [a, b, c, staff]) assert.equal(x.events[0], { id: 'A01', inService: false });
      assert.is(onlyA02.events.length, 0, 'a subscriber of A02 alone does not see A01');

      a.stop();
      await until(() => gauges(s), (g) => g.subscribers === before.subscribers + 4 && g.streams === before.streams + 3, 'one monitor gone, its stream still shared');
      await setService(s, 'A02', false);
      await until(async () => [b, c, staff, onlyA02].every((x) => x.events.length === (x === onlyA02 ? 1 : 2)), Boolean, 'the second change');
      for (const x of [b, c, staff, onlyA02]) assert.equal(x.events.at(-1), { id: 'A02', inService: false });
      assert.is(a.events.length, 1, 'a subscriber that left gets nothing more');

      for (const x of [b, c, staff, onlyA02]) x.stop();
      await until(() => gauges(s), (g) => g.subscribers === before.subscribers && g.streams === before.streams, 'every stream ended with its last subscriber');
      for (const x of [a, b, c, staff, onlyA02]) assert.equal(x.errors, []);

      // after all left, a new subscriber starts a fresh stream and sees the next change
      const d = watch(s, MONITOR, WATCH);
      await until(() => gauges(s), (g) => g.streams === before.streams + 1, 'a fresh stream');
      await setService(s, 'A01', true);
      await until(async () => d.events.length === 1, Boolean, 'the fresh stream delivers');
      assert.equal(d.events[0], { id: 'A01', inService: true });
      d.stop();
    } finally {
      await s.close();
    }
  });

  t('a subscription refused for its grant answers its own error and joins nothing', async () => {
    const s = await start(engine);
    try {
      const before = await gauges(s);
      const monitor = watch(s, MONITOR, WATCH);
      await until(() => gauges(s), (g) => g.streams === before.streams + 1, 'the monitor stream');
      const anonymous = watch(s, '', WATCH);
      await until(async () => anonymous.errors.length > 0 || anonymous.completed, Boolean, 'the anonymous answer');
      assert.is(anonymous.events.length, 0);
      const g = await gauges(s);
      assert.is(g.subscribers, before.subscribers + 1, 'the refused subscription joined nothing');
      await setService(s, 'A03', false);
      await until(async () => monitor.events.length === 1, Boolean, 'the monitor still served');
      monitor.stop();
    } finally {
      await s.close();
    }
  });

  t("a box's subscription gauges count its own subscribers only, not another box's in the same process", async () => {
    const s = await start(engine);
    const other = await start(engine);
    try {
      assert.equal(await gauges(s), { streams: 0, subscribers: 0 }, 'a fresh box has no subscriptions');
      const a = watch(s, MONITOR, WATCH);
      const b = watch(s, STAFF, WATCH);
      await until(() => gauges(s), (g) => g.subscribers === 2 && g.streams === 2, 'two subscribers on the first box');
      assert.equal(await gauges(other), { streams: 0, subscribers: 0 }, 'the other box counts none of them');
      a.stop();
      b.stop();
      await until(() => gauges(s), (g) => g.subscribers === 0 && g.streams === 0, 'both gone');
    } finally {
      await other.close();
      await s.close();
    }
  });

  t('many subscribers joining and leaving while events flow (real clock): the steady ones get every event in order, each other one a gap-free run', async () => {
    const s = await start(engine);
    try {
      const before = await gauges(s);
      const steady = Array.from({ length: 8 }, () => watch(s, MONITOR, WATCH));
      await until(() => gauges(s), (g) => g.subscribers === before.subscribers + 8 && g.streams === before.streams + 1, 'eight steady subscribers on one stream');
      const ids = Array.from({ length: 12 }, (_, i) => `A${String(i + 1).padStart(2, '0')}`);
      const churners: Seen[] = [];
      // While the changes flow, subscribers keep joining and leaving on their own sockets.
      let flowing = true;
      const churn = (async () => {
        for (let i = 0; flowing; i++) {
          const x = watch(s, MONITOR, WATCH);
          churners.push(x);
          await sleep(5 + (i % 4) * 10);
          churners[i - 2]?.stop();
        }
      })();
      const started = Date.now();
      for (const id of ids) {
        await setService(s, id, false);
        await sleep(15);
      }
      await until(async () => steady.every((x) => x.events.length === ids.length), Boolean, 'every change at every steady subscriber', 10_000);
      const elapsed = Date.now() - started;
      flowing = false;
      await churn;
      for (const x of churners) x.stop();
      assert.ok(elapsed < 10_000, `twelve changes reached eight steady subscribers among churning ones in ${elapsed} ms`);
      const expected = ids.map((id) => ({ id, inService: false }));
      for (const x of steady) {
        assert.equal(x.events, expected, 'a steady subscriber gets every change once, in order');
        assert.equal(x.errors, []);
      }
      assert.ok(churners.length >= 10, `subscribers churned (${churners.length})`);
      assert.ok(churners.some((x) => x.events.length > 0 && x.events.length < ids.length), 'some subscriber joined or left while the changes flowed');
      for (const x of churners) {
        assert.equal(x.errors, []);
        const first = x.events.length ? ids.indexOf(x.events[0]!.id) : 0;
        assert.equal(x.events, expected.slice(first, first + x.events.length), 'a member gets a gap-free run of the changes while it is in the group');
      }
      for (const x of steady) x.stop();
      await until(() => gauges(s), (g) => g.subscribers === before.subscribers && g.streams === before.streams, 'every subscriber gone and the stream ended');
    } finally {
      await s.close();
    }
  });

  t.run();
}
