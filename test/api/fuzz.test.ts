import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildSchema } from '../../schema/index.js';
import { checkAnswer, createFuzzer, type FuzzRequest } from './fuzz.js';
import { ENGINES, INTEGRATION, KIOSK, MONITOR, STAFF, start } from './support.js';

/**
 * The schema-driven fuzzer (test/api/fuzz.ts), short and seeded, against both servers over real
 * sockets: no 5xx, no INTERNAL for a client's mistake, every error with a catalog code.
 * `npm run soak:fuzz` runs the long version (≥ 100,000 requests per server) with RSS figures.
 */

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 14);

/** Sends one fuzz request; resolves why it broke the contract, or null. */
export async function send(base: string, r: FuzzRequest): Promise<string | null> {
  const res = await fetch(base + r.path, { method: r.method, headers: r.headers, body: r.body, signal: AbortSignal.timeout(10_000) });
  const type = res.headers.get('content-type') ?? '';
  if (/text\/(event-stream|html)/.test(type)) {
    await res.body?.cancel();
    return checkAnswer(res.status, type, '');
  }
  const problem = checkAnswer(res.status, type, await res.text());
  return problem && `${problem}\n  request: ${r.method} ${r.path} ${JSON.stringify(r.headers)} ${r.body?.slice(0, 300) ?? ''}`;
}

for (const engine of ENGINES) {
  const test = suite(`api fuzz (${engine})`);
  test(`${REQUESTS} seeded requests: no 5xx, no INTERNAL, every error coded`, async () => {
    const s = await start(engine, { harness: false });
    try {
      const next = createFuzzer(buildSchema(), SEED, [KIOSK, STAFF, INTEGRATION, MONITOR, undefined, 'not-a-configured-token-000']);
      const problems: string[] = [];
      for (let i = 0; i < REQUESTS; i += 4) {
        const batch = Array.from({ length: Math.min(4, REQUESTS - i) }, () => next());
        for (const p of await Promise.all(batch.map((r) => send(s.base, r)))) if (p) problems.push(p);
      }
      assert.equal(problems.slice(0, 5), []);
    } finally {
      await s.close();
    }
  });
  test.run();
}
