/**
 * Where the central service's time goes while it drains a backlog (`npx tsx bench/fleet-profile.ts`;
 * not part of `npm run bench`): 50 boxes × 100 events preloaded as the relay writes them, then one
 * central process applies them. Reported: Redis commands per event by kind (INFO commandstats,
 * reset before the drain), the server's own time for them, the central process's CPU time and
 * event-loop utilisation — so the wall time splits into server work, client CPU, and waiting.
 */
import { performance } from 'node:perf_hooks';
import { startCentral } from '../src/fleet/central.js';
import { BOXES_KEY, encodeEvent, eventsStream, streamId } from '../src/fleet/protocol.js';
import { fleetClient } from '../src/fleet/redis.js';
import { fleetRedis } from '../test/fleet/support.js';

const BOXES = 50;
const PER_BOX = Number(process.env.PER_BOX ?? 100);
const total = BOXES * PER_BOX;
const redis = await fleetRedis();
const client = fleetClient(redis.url);
await client.connect();
try {
  for (let b = 0; b < BOXES; b++) {
    const boxId = `box-${b}`;
    await client.sAdd(BOXES_KEY, boxId);
    for (let seq = 1; seq <= PER_BOX; seq += 10) {
      const multi = client.multi();
      for (let s = seq; s < Math.min(seq + 10, PER_BOX + 1); s++) {
        multi.xAdd(eventsStream(boxId), streamId(s), encodeEvent({ id: `${boxId}:${s}`, boxId, seq: s, type: 'pickup.changed', at: Date.now(), data: { reference: `B-${boxId}-${s % 40}`, status: 'REGISTERED', compartmentId: null, change: 'registered' } }));
      }
      await multi.exec();
    }
  }
  await client.sendCommand(['CONFIG', 'RESETSTAT']);
  let applied = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const central = await startCentral({ redisUrl: redis.url, consumer: 'profile', blockMs: 100, silentAfterMs: 3_600_000, afterApply: () => void (++applied === total && done()) });
  await finished;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  await central.close();
  const stats = String(await client.sendCommand(['INFO', 'commandstats']));
  const rows = [...stats.matchAll(/cmdstat_(\S+?):calls=(\d+),usec=(\d+)/g)].map((m) => ({ command: m[1]!, calls: Number(m[2]), usec: Number(m[3]) })).sort((a, b) => b.calls - a.calls);
  const calls = rows.reduce((n, r) => n + r.calls, 0);
  const serverMs = rows.reduce((n, r) => n + r.usec, 0) / 1_000;
  console.log(`${total} events drained in ${wallMs.toFixed(0)} ms (${(total / (wallMs / 1_000)).toFixed(0)} events/s)`);
  console.log(`redis commands: ${calls} (${(calls / total).toFixed(1)} per event), server time ${serverMs.toFixed(0)} ms (${((serverMs / wallMs) * 100).toFixed(0)} % of the wall time)`);
  console.log(`central CPU: user ${(cpu.user / 1_000).toFixed(0)} ms + system ${(cpu.system / 1_000).toFixed(0)} ms (${(((cpu.user + cpu.system) / 1_000 / wallMs) * 100).toFixed(0)} % of the wall time); event loop busy ${(elu.utilization * 100).toFixed(0)} %`);
  console.log('command            calls  per event  server µs/call');
  for (const r of rows) console.log(`${r.command.padEnd(18)} ${String(r.calls).padStart(6)}  ${(r.calls / total).toFixed(2).padStart(9)}  ${(r.usec / Math.max(1, r.calls)).toFixed(1).padStart(14)}`);
} finally {
  client.destroy();
  await redis.dispose();
}
