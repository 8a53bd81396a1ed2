import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ResponseCache } from '../../src/server/cache.js';
import { ENGINES, HARNESS, KIOSK, MONITOR, STAFF, codeOf, start, type Engine, type Running } from './support.js';

/**
 * The response cache of both servers: a cached answer never outlives the committed change that
 * makes it stale, and never crosses roles. Reads are counted on the box itself.
 */

async function using(engine: Engine, fn: (s: Running, reads: () => number) => Promise<void>) {
  const s = await start(engine);
  let count = 0;
  const read = s.box.compartments.bind(s.box);
  s.box.compartments = () => (count++, read());
  try {
    await fn(s, () => count);
  } finally {
    await s.close();
  }
}

const Q = `{ compartments { id state door inService } }`;
const a01 = (r: { data: any }) => r.data.compartments.find((c: any) => c.id === 'A01');

for (const engine of ENGINES) {
  const test = suite(`api response cache (${engine})`);

  test('a repeated read is answered from the cache, with the same answer', async () => {
    await using(engine, async (s, reads) => {
      const first = await s.gql(Q, {}, MONITOR);
      const second = await s.gql(Q, {}, MONITOR);
      assert.is(first.errors, undefined);
      assert.equal(second, first);
      assert.is(reads(), 1, 'the box was read once');
    });
  });

  test('a cached answer never outlives the change that makes it stale', async () => {
    await using(engine, async (s, reads) => {
      assert.is(a01(await s.gql(Q, {}, MONITOR)).inService, true);
      const out = await s.gql(`mutation { setCompartmentService(id: "A01", inService: false, reason: "hinge") { inService } }`, {}, STAFF);
      assert.is(out.data!.setCompartmentService.inService, false);
      assert.equal(a01(await s.gql(Q, {}, MONITOR)), { id: 'A01', state: 'outOfService', door: 'closed', inService: false });
      await s.gql(`mutation { setCompartmentService(id: "A01", inService: true) { inService } }`, {}, STAFF);
      await s.gql(`mutation { simulateDoor(compartmentId: "A02", open: true, force: true) { door } }`, {}, HARNESS);
      const after = await s.gql(Q, {}, MONITOR);
      assert.is(a01(after).inService, true);
      assert.is(after.data!.compartments.find((c: any) => c.id === 'A02').door, 'open', 'a hardware event invalidates too');
      assert.is(reads(), 3);
    });
  });

  test('a cached answer never crosses roles: each grant is computed and authorised on its own', async () => {
    await using(engine, async (s, reads) => {
      assert.is((await s.gql(Q, {}, STAFF)).errors, undefined);
      assert.is(codeOf(await s.gql(Q, {}, KIOSK)), 'FORBIDDEN', 'a kiosk does not get the staff answer');
      assert.is(codeOf(await s.gql(Q)), 'UNAUTHENTICATED');
      assert.is((await s.gql(Q, {}, MONITOR)).errors, undefined);
      assert.is(reads(), 2, 'staff and monitor each had their own read');
      assert.is(codeOf(await s.gql(Q, {}, KIOSK)), 'FORBIDDEN', 'refusals are not cached as answers either');
    });
  });

  test.run();
}

const unit = suite('response cache');
unit('an answer computed while a change landed is not stored', () => {
  const cache = new ResponseCache();
  const before = cache.current;
  cache.invalidate(); // a commit during the execution
  cache.set('k', { status: 200, type: 'application/json', body: '{}' }, before);
  assert.is(cache.get('k'), undefined);
  cache.set('k', { status: 200, type: 'application/json', body: '{}' }, cache.current);
  assert.ok(cache.get('k'));
});
unit('only read-only queries of committed-state fields are cacheable', async () => {
  const { parse, getOperationAST } = await import('graphql');
  const op = (q: string) => getOperationAST(parse(q))!;
  assert.ok(ResponseCache.cacheable(op('{ compartments { id } }')));
  assert.ok(ResponseCache.cacheable(op('{ devices { reader { state } } health { ok } }')));
  assert.not.ok(ResponseCache.cacheable(op('{ box { openNow } }')), 'clock-dependent');
  assert.not.ok(ResponseCache.cacheable(op('{ compartments { id } auditLog { edges { cursor } } }')));
  assert.not.ok(ResponseCache.cacheable(op('{ __typename }')));
  assert.not.ok(ResponseCache.cacheable(op('mutation { startSession { id } }')));
  assert.not.ok(ResponseCache.cacheable(op('{ ...F } fragment F on Query { compartments { id } }')));
});
unit.run();
