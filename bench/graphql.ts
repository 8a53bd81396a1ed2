/**
 * GraphQL throughput: a box of 608 compartments on the register-level I2C simulation (87 MCP23017
 * boards on 11 buses, polled every 100 ms on the system clock, as `npm start` runs), served by
 * graphql-yoga and by mercurius in this process, loaded by autocannon in a second process. Each
 * server's `{ __typename }` in the same run is the baseline: what the HTTP + GraphQL stack costs
 * before any resolver touches the box.
 */
import { execute, parse } from 'graphql';
import { buildSchema } from '../schema/index.js';
import { createBox, type Box } from '../src/box.js';
import { createServer } from '../src/server/index.js';
import { autocannon, benchLayout, GqlClient, nowMs, row, TOKENS, type BenchContext, type CannonResult, type Row } from './lib.js';

export const COMPARTMENTS_QUERY = '{ compartments { id size accessible state door lock occupied fault inService } }';
const TYPENAME_QUERY = '{ __typename }';

/** ms per call of the query's execute() in-process (no HTTP), and of the box read alone. */
async function inProcess(box: Box, iterations: number): Promise<{ execute: number; read: number }> {
  const schema = buildSchema(() => {});
  const document = parse(COMPARTMENTS_QUERY);
  const context = () => ({ box, role: 'monitor' as const, identity: 'monitor', kioskId: null });
  for (let i = 0; i < 20; i++) await execute({ schema, document, contextValue: context() });
  let t0 = nowMs();
  for (let i = 0; i < iterations; i++) {
    const r = await execute({ schema, document, contextValue: context() });
    if (r.errors) throw new Error(`execute: ${r.errors[0]!.message}`);
  }
  const executeMs = (nowMs() - t0) / iterations;
  for (let i = 0; i < 20; i++) box.compartments();
  t0 = nowMs();
  for (let i = 0; i < iterations; i++) box.compartments();
  return { execute: executeMs, read: (nowMs() - t0) / iterations };
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const box = await createBox({ storage: 'memory:', layout: benchLayout(608), hardware: 'i2c-sim', hoursPreset: 'always' });
  const duration = quick ? 2 : 6;
  const connections = 10;
  const rows: Row[] = [];
  try {
    const local = await inProcess(box, quick ? 50 : 300);
    log(`in-process: execute() ${local.execute.toFixed(2)} ms, box.compartments() ${local.read.toFixed(2)} ms`);
    rows.push(row('GraphQL, 608 compartments, in-process', 'compartments query execute()', local.execute, 'ms', 'box.compartments() alone', local.read,
      '5,472 resolved fields (608 × 9) through Pothos and scope-auth wrappers; the box read is a small part'));
    for (const engine of ['yoga', 'mercurius'] as const) {
      const server = createServer(box, { tokens: TOKENS, engine, logError: () => {} });
      const { url } = await server.listen(0, '127.0.0.1');
      try {
        // The query must really answer 608 compartments, not an error.
        const client = new GqlClient(url);
        const check = await client.must<{ compartments: unknown[] }>(COMPARTMENTS_QUERY, undefined, TOKENS.monitor);
        client.close();
        if (check.compartments.length !== 608) throw new Error(`expected 608 compartments, got ${check.compartments.length}`);

        const load = (query: string): Promise<CannonResult> =>
          autocannon({ url, token: TOKENS.monitor, body: JSON.stringify({ query }), connections, duration });
        await autocannon({ url, token: TOKENS.monitor, body: JSON.stringify({ query: COMPARTMENTS_QUERY }), connections, duration: 1 }); // warm-up
        const full = await load(COMPARTMENTS_QUERY);
        const bare = await load(TYPENAME_QUERY);
        for (const [name, r] of [['compartments', full], ['__typename', bare]] as const) {
          if (r.non2xx || r.errors || r.timeouts) throw new Error(`${engine} ${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
          log(`${engine} ${name}: ${r.requestsPerSec.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms (${r.total} requests)`);
        }
        const B = `GraphQL ${engine}, 608 compartments`;
        const base = `${engine} { __typename }`;
        rows.push(
          row(B, 'compartments query throughput', full.requestsPerSec, 'req/s', base, bare.requestsPerSec,
            `~84 kB of JSON per answer; execute() alone is ${local.execute.toFixed(1)} ms of CPU per request; ${connections} connections, ${duration} s, autocannon in a 2nd process`),
          row(B, 'compartments query p99 latency', full.p99, 'ms', base, bare.p99, 'latency under saturation: mostly queueing behind the other connections'),
        );
      } finally {
        await server.close();
      }
    }
  } finally {
    await box.close();
  }
  return rows;
}
