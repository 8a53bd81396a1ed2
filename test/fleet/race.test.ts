import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { acquireLease, LeaseLost } from '../../src/fleet/apply-lease.js';
import { startCentral } from '../../src/fleet/central.js';
import { Projection, type FleetBox, type FleetPickup } from '../../src/fleet/projection.js';
import { BOXES_KEY, CENTRAL_GROUP, encodeEvent, eventsStream, streamId, type FleetEvent } from '../../src/fleet/protocol.js';
import { fleetClient, type RedisClient } from '../../src/fleet/redis.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { fleetRedis, until, type FleetRedis } from './support.js';

// Two real central processes (test/fleet/race-child.ts) on one real redis-server consume one
// box's stream, written here in the relay's wire format. Each process appends every event it
// applies to one Redis list, so the test sees the order in which the fleet applied them.

const STATUSES = ['REGISTERED', 'LOADING', 'READY', 'COLLECTED'] as const;
const REFERENCES = ['V-RACE-0', 'V-RACE-1', 'V-RACE-2'];

/** Event `seq` of box `race`: mostly one pickup's next status, every fifth an alarm raised (odd) or cleared (even). */
function raceEvent(seq: number): FleetEvent {
  const base = { id: `race:${seq}`, boxId: 'race', seq, at: 1_800_000_000_000 + seq };
  if (seq % 5 === 0) {
    const raise = (seq / 5) % 2 === 1;
    return { ...base, type: raise ? 'alarm.raised' : 'alarm.cleared', data: { id: 'door-A01', code: 'DOOR_HELD_OPEN', severity: 'warning', subject: 'A01', text: `held (${seq})`, raisedAt: base.at } };
  }
  return { ...base, type: 'pickup.changed', data: { reference: REFERENCES[seq % REFERENCES.length], status: STATUSES[seq % STATUSES.length], compartmentId: 'A01', change: `step ${seq}` } };
}

/** What the projection must show once events 1…n are applied in order. */
function expected(n: number) {
  const pickups = new Map<string, { status: string; seq: number }>();
  let alarmOpen = false;
  for (let seq = 1; seq <= n; seq++) {
    const e = raceEvent(seq);
    if (e.type === 'pickup.changed') pickups.set(String(e.data.reference), { status: String(e.data.status), seq });
    else alarmOpen = e.type === 'alarm.raised';
  }
  return { pickups, alarmOpen };
}

async function produce(client: RedisClient, from: number, to: number, chunk: number, pauseMs: number) {
  for (let seq = from; seq <= to; seq += chunk) {
    const multi = client.multi();
    for (let s = seq; s < Math.min(seq + chunk, to + 1); s++) multi.xAdd(eventsStream('race'), streamId(s), encodeEvent(raceEvent(s)));
    await multi.exec();
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
  }
}

function startCentralProcess(url: string, consumer: string, batch: number, stallAfter = 0) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/fleet/race-child.ts', url, consumer, String(batch), String(stallAfter)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return {
    child,
    output: () => out,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Reads the centre's projection over and over and notes every step back of a sequence number. */
function watchForRegressions(projection: Projection) {
  const regressions: string[] = [];
  let stop = false;
  let lastBox: FleetBox | undefined;
  const lastPickups = new Map<string, FleetPickup>();
  const watching = (async () => {
    while (!stop) {
      const box = await projection.box('race');
      if (box && lastBox) {
        if ((box.appliedSeq ?? 0) < (lastBox.appliedSeq ?? 0)) regressions.push(`appliedSeq ${lastBox.appliedSeq} → ${box.appliedSeq}`);
        if (box.highestSeq < lastBox.highestSeq) regressions.push(`highestSeq ${lastBox.highestSeq} → ${box.highestSeq}`);
        if (box.lastSeq < lastBox.lastSeq) regressions.push(`lastSeq ${lastBox.lastSeq} → ${box.lastSeq}`);
      }
      lastBox = box ?? lastBox;
      for (const reference of REFERENCES) {
        const p = await projection.pickup(reference);
        const before = lastPickups.get(reference);
        if (p && before && p.seq < before.seq) regressions.push(`${reference} seq ${before.seq} → ${p.seq}`);
        if (p) lastPickups.set(reference, p);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    regressions,
    async stop() {
      stop = true;
      await watching;
    },
  };
}

interface RaceState {
  redis: FleetRedis;
  client: RedisClient;
  projection: Projection;
  centrals: Array<ReturnType<typeof startCentralProcess>>;
}

/** A fresh redis-server with the box `race` known, the centre's store opened for reading; everything stopped afterwards, pass or fail. */
async function withRace(fn: (s: RaceState) => Promise<void>) {
  const redis = await fleetRedis();
  const client = fleetClient(redis.url);
  await client.connect();
  await client.sAdd(BOXES_KEY, 'race');
  const store = await openPersistence(redis.url, { namespace: 'central' });
  const s: RaceState = { redis, client, projection: new Projection(store.kv), centrals: [] };
  try {
    await fn(s);
  } finally {
    for (const c of s.centrals) await c.kill();
    client.destroy();
    await store.close();
    await redis.dispose();
  }
}

test('an apply lease longer than the claim time is refused before any I/O (INVALID_CONFIG): a dead holder would hold up the takeover', async () => {
  let code = 'accepted';
  try {
    await startCentral({ redisUrl: 'redis://127.0.0.1:1', claimIdleMs: 1_000, applyLeaseMs: 5_000 });
  } catch (error) {
    code = (error as { code: string }).code;
  }
  assert.is(code, 'INVALID_CONFIG');
});

test.run();

const race = suiteNeeding('fleet: two central processes race on one box', [REDIS]);

/** Waits until every event up to `n` is applied and acknowledged, and checks the projection against applying 1…n in order. */
async function assertAppliedInOrder(s: RaceState, n: number) {
  await until(`the centre to apply race:${n}`, async () => ((await s.projection.box('race'))?.appliedSeq ?? 0) >= n && (await s.client.xPending(eventsStream('race'), CENTRAL_GROUP)).pending === 0, 60_000);
  const log = await s.client.lRange('race:applied', 0, -1);
  assert.equal(log.map((x) => x.split('|')[1]), Array.from({ length: n }, (_, i) => `race:${i + 1}`), 'every event applied once, in sequence');
  const want = expected(n);
  for (const [reference, { status, seq }] of want.pickups) {
    const p = await s.projection.pickup(reference);
    assert.is(p?.status, status, `${reference} shows its last status`);
    assert.is(p?.seq, seq);
  }
  const box = (await s.projection.box('race'))!;
  assert.is(Object.keys(box.openAlarms).length, want.alarmOpen ? 1 : 0, 'the alarm state of the last alarm event');
  assert.is(box.lastSeq, n);
  assert.is(box.highestSeq, n);
  return log;
}

race('two central processes taking turns at one box: each event applied once and in sequence, the projection never steps back', () => withRace(async (s) => {
  s.centrals.push(startCentralProcess(s.redis.url, 'central-a', 4), startCentralProcess(s.redis.url, 'central-b', 4));
  await until('both central processes', () => s.centrals.every((c) => c.output().includes('READY')), 30_000);
  const watch = watchForRegressions(s.projection);
  const N = 240;
  await produce(s.client, 1, N, 8, 3);
  const log = await assertAppliedInOrder(s, N);
  await watch.stop();
  assert.equal(watch.regressions, [], 'no record of the projection ever went back');
  // Both processes were handed entries of the box by the consumer group (which of them applied
  // them is up to the lease: a holder also applies what the other read but has not applied yet).
  const readers = await s.client.lRange('race:read', 0, -1);
  assert.ok(readers.includes('central-a') && readers.includes('central-b'), `both read batches (${new Set(readers).size} readers, ${readers.length} batches)`);
}));

race('the lease holder frozen mid-batch and killed: the other waits out its lease, then applies the rest in sequence, nothing twice', () => withRace(async (s) => {
  const a = startCentralProcess(s.redis.url, 'central-a', 20, 3);
  s.centrals.push(a);
  await until('central A', () => a.output().includes('READY'), 30_000);
  await produce(s.client, 1, 20, 20, 0);
  const stalledAt = await until('central A to freeze mid-batch', () => /STALLED (\S+)/.exec(a.output())?.[1], 30_000);
  assert.is(stalledAt, 'race:3');
  const watch = watchForRegressions(s.projection);
  const b = startCentralProcess(s.redis.url, 'central-b', 20);
  s.centrals.push(b);
  await until('central B', () => b.output().includes('READY'), 30_000);
  // B reads these new entries at once, but must not apply them before 4…20, which A still holds.
  await produce(s.client, 21, 60, 5, 10);
  await a.kill();
  const log = await assertAppliedInOrder(s, 60);
  await watch.stop();
  assert.equal(watch.regressions, []);
  assert.equal(log.slice(0, 3), ['central-a|race:1', 'central-a|race:2', 'central-a|race:3']);
  assert.ok(log.slice(3).every((x) => x.startsWith('central-b|')), 'B applied everything after the event A froze on, and not that one again');
}));

race('a lease whose holder stops for longer than its time: the holder refuses to go on, the other gets it, and the old holder cannot give it back', () => withRace(async (s) => {
  const other = fleetClient(s.redis.url);
  await other.connect();
  try {
    // Generous times (a 1 s lease, a 1.4 s stop): a loaded machine delays timers by hundreds of ms.
    const first = await acquireLease(s.client, 'fleet:apply-lock:race', 'a', { ttlMs: 1_000, closed: () => false });
    first.assertHeld();
    const waiting = acquireLease(other, 'fleet:apply-lock:race', 'b', { ttlMs: 1_000, closed: () => false });
    // The holder's whole process stops (no renewal can run), longer than the lease's time.
    await new Promise((r) => setTimeout(r, 20));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_400);
    assert.throws(() => first.assertHeld(), (e: Error) => e instanceof LeaseLost);
    const second = await waiting;
    second.assertHeld();
    await first.release(); // not its lease any more: nothing happens
    assert.ok((await s.client.get('fleet:apply-lock:race'))?.startsWith('b:'), 'the second holder keeps it');
    // Renewed while held: still valid after three times its length.
    await new Promise((r) => setTimeout(r, 3_000));
    second.assertHeld();
    await second.release();
    assert.is(await s.client.get('fleet:apply-lock:race'), null);
  } finally {
    other.destroy();
  }
}));

race.run();
