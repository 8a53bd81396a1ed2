/**
 * The long fuzz run (`npm run soak:fuzz -- [requests] [seed]`): the schema-driven fuzzer of
 * test/api/fuzz.ts against each server in this process, 8 requests in flight, then 15 s idle.
 * Prints the contract breaks (none expected: no 5xx, no INTERNAL, every error coded) and the
 * process RSS and JS heap after a warm-up (the first WARM_UP requests load GraphiQL's 9 MB bundle
 * and fill the document caches once), right after, and after the idle time and a GC. Exits 1 on a
 * break or when the heap after idling is more than HEAP_BOUND_MB above the warmed-up heap. RSS is
 * printed, not bounded: client and server share this process, and glibc keeps freed arenas (the
 * first engine run in a process grows RSS by ~200 MB over 5,000 requests, the second by ~130 MB,
 * while the heap returns to ~90 MB after each).
 */
import { buildSchema } from '../schema/index.js';
import { checkAnswer, createFuzzer } from '../test/api/fuzz.js';
import { ENGINES, INTEGRATION, KIOSK, MONITOR, STAFF, start } from '../test/api/support.js';

const REQUESTS = Number(process.argv[2] ?? 100_000);
const SEED = Number(process.argv[3] ?? 14);
const IN_FLIGHT = 8;
const HEAP_BOUND_MB = 50;
const WARM_UP = Math.min(2_000, Math.max(1_000, Math.floor(REQUESTS / 10)));
const mb = () => process.memoryUsage().rss / 1024 / 1024;
const heap = () => process.memoryUsage().heapUsed / 1024 / 1024;

let failed = false;
// SOAK_ENGINES=mercurius,yoga changes the order (the first run also pays the process' own warm-up).
const engines = process.env.SOAK_ENGINES ? (process.env.SOAK_ENGINES.split(',') as typeof ENGINES) : ENGINES;
for (const engine of engines) {
  const s = await start(engine, { harness: false });
  const next = createFuzzer(buildSchema(), SEED, [KIOSK, STAFF, INTEGRATION, MONITOR, undefined, 'not-a-configured-token-000']);
  let before = mb();
  let beforeHeap = heap();
  const statuses: Record<number, number> = {};
  const problems: string[] = [];
  let sent = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (sent < REQUESTS) {
      if (++sent === WARM_UP) {
        (globalThis as { gc?: () => void }).gc?.();
        before = mb();
        beforeHeap = heap();
      }
      const r = next();
      try {
        const res = await fetch(s.base + r.path, { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(10_000) });
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        const type = res.headers.get('content-type') ?? '';
        const streamed = /text\/(event-stream|html)/.test(type);
        if (streamed) await res.body?.cancel();
        const problem = checkAnswer(res.status, type, streamed ? '' : await res.text());
        if (problem) problems.push(`${problem} — ${r.method} ${r.path} ${r.body?.slice(0, 200) ?? ''}`);
      } catch (error) {
        problems.push(`transport: ${(error as Error).message} — ${r.method} ${r.path}`);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const after = mb();
  await new Promise((resolve) => setTimeout(resolve, 15_000));
  (globalThis as { gc?: () => void }).gc?.();
  const idle = mb();
  const idleHeap = heap();
  await s.close();
  console.log(`${engine}: ${REQUESTS} requests in ${seconds.toFixed(0)} s; statuses ${JSON.stringify(statuses)}; ${problems.length} contract breaks`);
  console.log(`${engine}: RSS ${before.toFixed(0)} MB after ${WARM_UP} warm-up requests, ${after.toFixed(0)} MB after, ${idle.toFixed(0)} MB after 15 s idle; heap ${beforeHeap.toFixed(0)} MB warmed up, ${idleHeap.toFixed(0)} MB after idle and GC (bound: + ${HEAP_BOUND_MB} MB)`);
  for (const p of problems.slice(0, 10)) console.log(`  ${p}`);
  if (problems.length || idleHeap - beforeHeap > HEAP_BOUND_MB) failed = true;
}
process.exit(failed ? 1 : 0);
