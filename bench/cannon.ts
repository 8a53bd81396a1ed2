/**
 * autocannon in its own process, so the load generator never shares the server's event loop.
 * Usage: node --import tsx bench/cannon.ts '<json options>'; prints autocannon's result as JSON.
 * `[<n>]` in the body becomes a per-request counter (references must be unique and may only hold
 * letters, digits, "-", "/" and ".", which autocannon's own `[<id>]` does not guarantee).
 */
import autocannon from 'autocannon';
import type { CannonOptions } from './lib.js';


const o = JSON.parse(process.argv[2] ?? '{}') as CannonOptions;
let n = 0;
const numbered = o.body.includes('[<n>]');
const result = await autocannon({
  url: o.url,
  connections: o.connections,
  ...(o.amount ? { amount: o.amount } : { duration: o.duration ?? 5 }),
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
  body: o.body,
  ...(numbered ? { requests: [{ setupRequest: (req: any) => ({ ...req, body: o.body.replaceAll('[<n>]', `${process.pid}-${++n}`) }) }] } : {}),
});
process.stdout.write(JSON.stringify(result) + '\n');
