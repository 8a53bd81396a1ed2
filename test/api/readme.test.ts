import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { createBox } from '../../src/box.js';
import { createYogaServer } from '../../src/server/index.js';
import { MONDAY_10AM } from '../helpers.js';
import { TOKENS } from './support.js';

// The README's example operations, run as they stand (only the PIN is the one the SMS carried),
// against a box configured like `npm start -- --harness`: 48 compartments on the simulated I2C
// boards, opening hours of the 24/7 room. Time moves 3 s between operations, at a person's pace.

interface Block {
  role: keyof typeof TOKENS;
  query: string;
}

function readmeBlocks(): Block[] {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const blocks: Block[] = [];
  for (const match of readme.matchAll(/```graphql\n# as: (\w+)[^\n]*\n([\s\S]*?)```/g)) {
    blocks.push({ role: match[1] as Block['role'], query: match[2]!.trim() });
  }
  return blocks;
}

const tokenOf = (role: Block['role']): string => {
  const t = TOKENS[role];
  return typeof t === 'string' ? t : Object.values(t)[0]!;
};

test('the README example operations run as documented and hand the document out', async () => {
  const blocks = readmeBlocks();
  assert.ok(blocks.length >= 10, `found ${blocks.length} example operations`);
  const box = await createBox({ storage: 'memory:', hoursPreset: 'always' }, { clock: new SimulatedClock(MONDAY_10AM) });
  const server = createYogaServer(box, { tokens: { ...TOKENS, kiosk: TOKENS.kiosk['1'] }, harness: true, logError: () => {} });
  const { url } = await server.listen(0, '127.0.0.1');
  let pin = '';
  try {
    for (const block of blocks) {
      await box.advance(3_000);
      if (block.query.startsWith('subscription')) {
        const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${tokenOf(block.role)}` } });
        const events: unknown[] = [];
        const done = new Promise<void>((resolve, reject) => {
          const stop = client.subscribe({ query: block.query }, { next: (v) => { events.push(v); stop(); resolve(); }, error: reject, complete: resolve });
        });
        // The subscription is set up over the socket in its own time: a change made before that is
        // not heard, so another one follows every 500 ms until one is (a fixed 100 ms wait hung the
        // test once, for good, on a loaded machine), for 10 s at the most.
        const heard = done.then(() => true);
        const deadline = Date.now() + 10_000;
        for (let n = 2; ; n++) {
          await box.registerPickup({ reference: `V-2026-${String(n).padStart(4, '0')}`, documentKind: 'PASSPORT', phone: '0152 28817386', birthDate: '1980-04-12' });
          if (await Promise.race([heard, new Promise<false>((r) => setTimeout(() => r(false), 500))])) break;
          if (Date.now() > deadline) assert.unreachable('the subscription heard no change within 10 s');
        }
        await client.dispose();
        assert.ok(events.length > 0, 'the subscription delivered a change');
        continue;
      }
      const query = pin ? block.query.replace('"123456"', `"${pin}"`) : block.query;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenOf(block.role)}` },
        body: JSON.stringify({ query }),
      });
      const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
      assert.is(body.errors, undefined, `${block.role}: ${query}\n${JSON.stringify(body.errors)}`);
      if (body.data?.simulatedSms) pin = /PIN: (\d{6})/.exec(body.data.simulatedSms.at(-1).text)![1]!;
    }
    assert.ok(pin, 'the SMS carried a PIN');
    assert.is(box.pickup('V-2026-0001')!.status, 'COLLECTED');
    assert.is(box.devices().shredder.binFree, box.devices().shredder.binCapacity - 1, 'the old ID was shredded');
  } finally {
    await server.close();
    await box.close();
  }
});

test.run();
