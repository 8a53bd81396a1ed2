// A central process for the race tests. Each batch it reads is noted in `race:read`; each event it applies is appended, as it is applied, to
// the Redis list `race:applied` (awaited before it goes on), so the test sees the one global order
// in which the fleet's central processes applied events. With `stall` it freezes after applying
// that many events of one batch (the test kills it there with SIGKILL).
import { createClient } from '@redis/client';
import { startCentral } from '../../src/fleet/central.js';

const [url, consumer, batchText, stallText] = process.argv.slice(2);
const stallAfter = Number(stallText ?? 0);
const log = createClient({ url: url! });
await log.connect();
let applied = 0;
await startCentral({
  redisUrl: url!,
  consumer,
  batch: Number(batchText ?? 10),
  blockMs: 50,
  claimIdleMs: 400,
  claimEveryMs: 100,
  beforeApply: async (events) => {
    if (events.length) await log.rPush('race:read', consumer!);
  },
  afterApply: async (e) => {
    await log.rPush('race:applied', `${consumer}|${e.id}`);
    if (stallAfter > 0 && ++applied === stallAfter) {
      process.stdout.write(`STALLED ${e.id}\n`);
      // Freeze the whole process here, holding the box's lease: this event is applied, its batch is not acknowledged.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600_000);
    }
  },
});
process.stdout.write('READY\n');
