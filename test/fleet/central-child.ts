// A central process for the takeover test: it consumes the fleet, and in its first batch of at
// least `stallAfter + 2` events it applies `stallAfter` of them and then freezes (the test kills it
// with SIGKILL there), so the rest of the batch is left pending in the consumer group.
import { startCentral } from '../../src/fleet/central.js';

const [url, consumer, stallAfterText] = process.argv.slice(2);
const stallAfter = Number(stallAfterText ?? 2);
let stalling = false;
let applied = 0;
await startCentral({
  redisUrl: url!,
  consumer,
  claimIdleMs: 60_000,
  beforeApply: (events) => {
    if (!stalling && events.length >= stallAfter + 2) stalling = true;
  },
  afterApply: (e) => {
    if (!stalling) return;
    applied++;
    if (applied === stallAfter) {
      process.stdout.write(`STALLED ${e.id}\n`);
      // Freeze the whole process right here: this event is applied but not yet acknowledged.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600_000);
    }
  },
});
process.stdout.write('READY\n');
