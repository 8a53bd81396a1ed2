/**
 * The fleet channel: how many box events one central process absorbs, and the event → projection
 * lag under load, against a bare XADD / XREADGROUP / XACK loop on the same redis-server in the same
 * run. 50 simulated boxes are 50 producers writing the boxes' wire format (MULTI of XADD with ids
 * 0-<seq>, as the relay does); the central process is the real one (projection in its default
 * store, keyv on the same Redis).
 */
import { randomUUID } from 'node:crypto';
import { startCentral } from '../src/fleet/central.js';
import { BOXES_KEY, CENTRAL_GROUP, encodeEvent, eventsStream, streamId, type FleetEvent } from '../src/fleet/protocol.js';
import { ensureGroup, fleetClient, type RedisClient } from '../src/fleet/redis.js';
import { fleetRedis } from '../test/fleet/support.js';
import { percentile, row, sleep, type BenchContext, type Row } from './lib.js';

const BOXES = 50;
const NAME = `fleet: ${BOXES} boxes → 1 central process (redis-server on 127.0.0.1)`;

/** A pickup change as a box sends it. */
const pickupEvent = (boxId: string, seq: number): FleetEvent => ({
  id: `${boxId}:${seq}`,
  boxId,
  seq,
  type: 'pickup.changed',
  at: Date.now(),
  data: { reference: `B-${boxId}-${seq % 40}`, status: seq % 3 === 0 ? 'READY' : 'REGISTERED', compartmentId: seq % 3 === 0 ? 'A01' : null, change: 'registered' },
});

/** Writes `perBox` events for each box in MULTI batches of 10, as the relay does. */
async function preload(client: RedisClient, prefix: string, perBox: number, from = 1): Promise<void> {
  for (let b = 0; b < BOXES; b++) {
    const boxId = `${prefix}${b}`;
    await client.sAdd(BOXES_KEY, boxId);
    for (let seq = from; seq < from + perBox; seq += 10) {
      const multi = client.multi();
      for (let s = seq; s < Math.min(seq + 10, from + perBox); s++) multi.xAdd(eventsStream(boxId), streamId(s), encodeEvent(pickupEvent(boxId, s)));
      await multi.exec();
    }
  }
}

/** Offered load: every box sends one event every `intervalMs`, for `durationMs`. */
async function steadyLoad(client: RedisClient, prefix: string, startSeq: number, intervalMs: number, durationMs: number): Promise<number> {
  const seqs = new Array<number>(BOXES).fill(startSeq);
  const until = Date.now() + durationMs;
  let sent = 0;
  while (Date.now() < until) {
    const tickStart = Date.now();
    await Promise.all(
      seqs.map((seq, b) => {
        seqs[b] = seq + 1;
        sent++;
        return client.xAdd(eventsStream(`${prefix}${b}`), streamId(seq), encodeEvent(pickupEvent(`${prefix}${b}`, seq)));
      }),
    );
    await sleep(Math.max(0, intervalMs - (Date.now() - tickStart)));
  }
  return sent;
}

/** The baseline: XREADGROUP over the 50 streams, one XACK per stream and batch, nothing else. */
async function bareConsumer(url: string, prefix: string, onEntry: (fields: Record<string, string>) => void) {
  const reader = fleetClient(url);
  const acker = fleetClient(url);
  await reader.connect();
  await acker.connect();
  const streams = Array.from({ length: BOXES }, (_, b) => eventsStream(`${prefix}${b}`));
  for (const s of streams) await ensureGroup(acker, s, CENTRAL_GROUP);
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const reply = (await reader.xReadGroup(CENTRAL_GROUP, 'bare', streams.map((key) => ({ key, id: '>' })), { COUNT: 100, BLOCK: 100 })) as Array<{ name: string; messages: Array<{ id: string; message: Record<string, string> }> }> | null;
      await Promise.all(
        (reply ?? []).map(async (s) => {
          for (const m of s.messages) onEntry(m.message);
          if (s.messages.length) await acker.xAck(s.name, CENTRAL_GROUP, s.messages.map((m) => m.id));
        }),
      );
    }
  })();
  return {
    async close() {
      stop = true;
      await loop.catch(() => {});
      reader.destroy();
      acker.destroy();
    },
  };
}

export async function run(ctx: BenchContext): Promise<Row[]> {
  const perBox = ctx.quick ? 20 : 100;
  const total = perBox * BOXES;
  const redis = await fleetRedis();
  const client = fleetClient(redis.url);
  await client.connect();
  try {
    // --- throughput: a backlog of `total` events, drained ---------------------------------------
    await preload(client, 'bare-', perBox);
    let bareSeen = 0;
    let bareDone: () => void = () => {};
    const bareFinished = new Promise<void>((r) => (bareDone = r));
    const t0 = performance.now();
    const bare = await bareConsumer(redis.url, 'bare-', () => ++bareSeen === total && bareDone());
    await bareFinished;
    const bareRate = total / ((performance.now() - t0) / 1_000);
    await bare.close();
    ctx.log(`bare loop drained ${total} events at ${bareRate.toFixed(0)}/s`);

    // The real central on its own boxes' streams (the bare ones are removed from the fleet set first).
    await client.del(BOXES_KEY);
    await preload(client, 'box-', perBox);
    let applied = 0;
    let centralDone: () => void = () => {};
    const centralFinished = new Promise<void>((r) => (centralDone = r));
    const lags: number[] = [];
    let measuringLag = false;
    const t1 = performance.now();
    const central = await startCentral({
      redisUrl: redis.url,
      consumer: `bench-${randomUUID().slice(0, 6)}`,
      blockMs: 100,
      silentAfterMs: 3_600_000,
      afterApply: (e) => {
        if (measuringLag) lags.push(Date.now() - e.at);
        else if (++applied === total) centralDone();
      },
    });
    await centralFinished;
    const centralRate = total / ((performance.now() - t1) / 1_000);
    ctx.log(`central absorbed ${total} events at ${centralRate.toFixed(0)}/s`);

    // --- lag under a steady load of about half what the central absorbs --------------------------
    const intervalMs = Math.max(20, Math.round((BOXES * 1_000) / (centralRate / 2)));
    const durationMs = ctx.quick ? 1_500 : 5_000;
    measuringLag = true;
    const offered = await steadyLoad(client, 'box-', perBox + 1, intervalMs, durationMs);
    await sleep(1_000);
    measuringLag = false;
    await central.close();
    const bareLags: number[] = [];
    const bareLoad = await bareConsumer(redis.url, 'bare-', (fields) => bareLags.push(Date.now() - Number(fields.at)));
    await steadyLoad(client, 'bare-', perBox + 1, intervalMs, durationMs);
    await sleep(1_000);
    await bareLoad.close();
    const rate = (BOXES * 1_000) / intervalMs;
    ctx.log(`lag at ${rate.toFixed(0)} events/s offered: central p99 ${percentile(lags, 99)} ms over ${lags.length} of ${offered}, bare p99 ${percentile(bareLags, 99)} ms`);
    return [
      row(NAME, 'events absorbed per second (backlog drained)', centralRate, 'events/s', 'bare XREADGROUP + XACK loop (same batches)', bareRate, `${total} events; each applied to the projection (event log, pickup, box record), deduplicated for live subscribers, acknowledged`),
      row(NAME, `event → projection lag p50 at ${rate.toFixed(0)} events/s`, percentile(lags, 50), 'ms', 'bare loop, same offered load', percentile(bareLags, 50), `about half the measured capacity, ${durationMs / 1_000} s`),
      row(NAME, `event → projection lag p99 at ${rate.toFixed(0)} events/s`, percentile(lags, 99), 'ms', 'bare loop, same offered load', percentile(bareLags, 99), 'from the box event time to the projection write, same machine clock'),
    ];
  } finally {
    client.destroy();
    await redis.dispose();
  }
}
