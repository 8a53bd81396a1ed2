import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { getIntrospectionQuery } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MAX_BODY_BYTES } from '../../src/server/guard.js';
import { MAX_COST, MAX_TOKENS } from '../../schema/limits.js';
import { ENGINES, INTEGRATION, MONITOR, STAFF, codeOf, postChunked, using, type Target } from './support.js';

/**
 * Attack: make the server do unbounded work, or learn the schema, or read internals from errors.
 * Every limit answers with a stable code, on both servers, and nothing behind it runs.
 */

const REGISTER = `mutation($input: RegisterPickupInput!) { registerPickup(input: $input) { reference status } }`;
const input = (reference: string) => ({ reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: '1980-04-12' });

/** Runs one subscription over graphql-ws and resolves the errors it ended with (or [] if it ran). */
function subscribeOnce(s: Target, query: string, token: string): Promise<unknown[]> {
  const client = createClient({ url: s.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { authorization: `Bearer ${token}` } });
  return new Promise<unknown[]>((resolve) => {
    const errors: unknown[] = [];
    const timer = setTimeout(() => finish(), 1_500);
    let stop = () => {};
    const finish = () => {
      clearTimeout(timer);
      stop();
      void client.dispose();
      resolve(errors);
    };
    stop = client.subscribe({ query }, { next: (r) => (r.errors ? errors.push(...r.errors) : undefined), error: (e) => (errors.push(e), finish()), complete: () => finish() });
  });
}

for (const engine of ENGINES) {
  const test = suite(`security: request limits (${engine})`);

  test('an oversized body is refused with 413 REQUEST_TOO_LARGE, declared or chunked; nothing runs', async () => {
    await using(engine, async (s) => {
      const padded = (reference: string, bytes: number) => JSON.stringify({ query: REGISTER, variables: { input: input(reference), padding: 'x'.repeat(bytes) } });
      const big = await s.post(padded('V-SEC-L1', MAX_BODY_BYTES), INTEGRATION);
      assert.is(big.status, 413);
      assert.is(big.body.errors[0].extensions.code, 'REQUEST_TOO_LARGE');
      const chunked = await postChunked(s.url, 4 * MAX_BODY_BYTES, INTEGRATION);
      assert.is(chunked.status, 413);
      assert.is(JSON.parse(chunked.body).errors[0].extensions.code, 'REQUEST_TOO_LARGE');
      assert.is(s.box.pickup('V-SEC-L1'), undefined, 'the mutation in the oversized body did not run');
      // Just under the limit is an ordinary request.
      const fits = await s.post(padded('V-SEC-L2', MAX_BODY_BYTES - 1_024), INTEGRATION);
      assert.is(fits.status, 200);
      assert.is(fits.body.data.registerPickup.status, 'REGISTERED');
    });
  });

  test(`a document over ${MAX_TOKENS} tokens is refused before parsing: QUERY_TOO_COMPLEX, nothing runs`, async () => {
    await using(engine, async (s) => {
      const many = `mutation($input: RegisterPickupInput!) { registerPickup(input: $input) { ${'status '.repeat(MAX_TOKENS)} } }`;
      const r = await s.gql(many, { input: input('V-SEC-T1') }, INTEGRATION);
      assert.is(codeOf(r), 'QUERY_TOO_COMPLEX');
      assert.match(r.errors![0]!.message, /tokens/);
      assert.is(s.box.pickup('V-SEC-T1'), undefined);
      // Comments are not tokens: a long commented document of few tokens passes.
      const commented = `# ${'c'.repeat(20_000)}\n{ box { name } }`;
      assert.is((await s.gql(commented, {}, STAFF)).errors, undefined);
    });
  });

  test(`an expensive query (static cost over ${MAX_COST}) is refused; a full page is not`, async () => {
    await using(engine, async (s) => {
      const page = (alias: string, first: string) => `${alias}: pickups(first: ${first}) { edges { cursor node { reference status } } }`;
      const fifteen = `{ ${Array.from({ length: 15 }, (_, i) => page(`p${i}`, '100')).join(' ')} }`;
      const r = await s.gql(fifteen, {}, STAFF);
      assert.is(codeOf(r), 'QUERY_TOO_COMPLEX');
      assert.match(r.errors![0]!.message, /costs \d+/);
      assert.not.ok(r.data);
      // A page size from a variable is counted as the largest page.
      const viaVariables = `query($n: Int) { ${Array.from({ length: 15 }, (_, i) => page(`p${i}`, '$n')).join(' ')} }`;
      assert.is(codeOf(await s.gql(viaVariables, { n: 1 }, STAFF)), 'QUERY_TOO_COMPLEX');
      // Lists nest multiplicatively: the same fields inside an expensive list cost more.
      const full = `{ pickups(first: 100) { totalCount edges { cursor node { reference documentKind documents accessible status compartmentId failedAttempts oldDocumentRegistered personalDataDeleted createdAt updatedAt readyAt expiresAt endedAt } } pageInfo { hasNextPage endCursor } } compartments { id state door occupied } alarms { id code } }`;
      assert.is((await s.gql(full, {}, STAFF)).errors, undefined, 'a dashboard-sized query passes');
    });
  });

  test('a deep query is refused: depth 10, introspection (development only) 16; GraphiQL still works', async () => {
    await using(
      engine,
      async (s) => {
        // The schema's own types do not recurse, so a deep query needs invented fields: the depth
        // rule refuses it alongside the unknown-field errors.
        const nestFields = (n: number): string => (n === 0 ? 'id' : `f${n} { ${nestFields(n - 1)} }`);
        const deep = await s.gql(`{ ${nestFields(11)} }`, {}, STAFF);
        assert.ok(deep.errors!.some((e) => e.extensions?.code === 'QUERY_TOO_COMPLEX' && /at most 10 fields deep/.test(e.message)), JSON.stringify(deep.errors));
        // The introspection types do recurse (ofType).
        const nest = (n: number): string => (n === 0 ? 'name' : `ofType { ${nest(n - 1)} }`);
        const r = await s.gql(`{ __type(name: "Pickup") { fields { type { ${nest(14)} } } } }`, {}, STAFF);
        assert.is(codeOf(r), 'QUERY_TOO_COMPLEX');
        assert.match(r.errors![0]!.message, /introspection may nest at most 16/);
        assert.not.ok(r.data);
        const graphiql = await s.gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }), {}, STAFF);
        assert.is(graphiql.errors, undefined, 'GraphiQL can load the schema in development');
      },
      { server: { production: false } },
    );
  });

  test('production: no introspection (POST and GET) and no field, argument or enum suggestions', async () => {
    await using(
      engine,
      async (s) => {
        for (const query of [`{ __schema { types { name } } }`, `{ __type(name: "Pickup") { fields { name } } }`, `{ box { name } __schema { queryType { name } } }`]) {
          const r = await s.gql(query, {}, STAFF);
          assert.ok(r.errors?.length, query);
          assert.not.ok(r.data, query);
          assert.not.match(JSON.stringify(r), /PickupConnection|registerPickup|"fields"/);
        }
        const get = await fetch(`${s.url}?query=${encodeURIComponent('{ __schema { types { name } } }')}`, { headers: { authorization: `Bearer ${STAFF}`, accept: 'application/json' } });
        const getBody = (await get.json()) as { data?: unknown; errors?: unknown[] };
        assert.ok(getBody.errors?.length);
        assert.not.ok(getBody.data);
        const probes: Array<[string, Record<string, unknown>]> = [
          [`{ pickupz { totalCount } }`, {}],
          [`{ pickups(firts: 2) { totalCount } }`, {}],
          [`{ pickups { totalCont } }`, {}],
          [`query($s: [PickupStatus!]) { pickups(status: $s) { totalCount } }`, { s: ['READDY'] }],
          [`{ pickups(status: [READDY]) { totalCount } }`, {}],
        ];
        for (const [query, variables] of probes) {
          const r = await s.gql(query, variables, STAFF);
          assert.ok(r.errors?.length, query);
          const text = JSON.stringify(r.errors);
          assert.not.match(text, /Did you mean/, query);
          assert.not.match(text, /"pickups"|"first"|"totalCount"|"READY"/, query);
        }
      },
      { server: { production: true } },
    );
  });

  test('development still suggests fields (so the production check above is meaningful)', async () => {
    await using(engine, async (s) => {
      const r = await s.gql(`{ pickupz { totalCount } }`, {}, STAFF);
      assert.match(JSON.stringify(r.errors), /Did you mean/);
    });
  });

  test('production: an unexpected error is masked as INTERNAL; the real one goes to logError only', async () => {
    const logged: Array<{ error: unknown; where: string }> = [];
    await using(
      engine,
      async (s) => {
        s.box.pickups = () => {
          throw new Error('ENOSPC: /var/lib/ausgabebox/secret.sqlite at Database.run');
        };
        const r = await s.gql(`{ pickups { totalCount } }`, {}, STAFF);
        assert.is(codeOf(r), 'INTERNAL');
        assert.is(r.errors![0]!.message, 'Unexpected error');
        assert.not.match(JSON.stringify(r), /ENOSPC|secret|sqlite|Database|stack|originalError/);
        assert.ok(logged.some((l) => String((l.error as Error).message).includes('ENOSPC')), 'the operator log has it');
        // A body that is not JSON gets a fixed answer, not the parser's message.
        const bad = await s.post('{"query": "{ box { name } }", ', STAFF);
        assert.is(bad.status, 400);
        assert.equal(bad.body, { errors: [{ message: 'the request body is not a GraphQL request', extensions: { code: 'BAD_REQUEST' } }] });
      },
      { server: { production: true, logError: (error, where) => logged.push({ error, where }) } },
    );
  });

  test('subscriptions over graphql-ws get the same limits, and WebSocket messages the body limit', async () => {
    await using(engine, async (s) => {
      const aliases = Array.from({ length: 25 }, (_, i) => `a${i}: reference`).join(' ');
      const tooMany = await subscribeOnce(s, `subscription { pickupEvents { ${aliases} } }`, MONITOR);
      assert.match(JSON.stringify(tooMany), /QUERY_TOO_COMPLEX|at most 20 aliases/);
      const tokens = await subscribeOnce(s, `subscription { pickupEvents { ${'reference '.repeat(MAX_TOKENS)} } }`, MONITOR);
      assert.match(JSON.stringify(tokens), /QUERY_TOO_COMPLEX|tokens/);
      // A WebSocket message over the body limit closes the socket (1009 Message Too Big).
      const closed = await new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(s.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${MONITOR}`, padding: 'x'.repeat(2 * MAX_BODY_BYTES) } })));
        socket.on('close', (code) => resolve(code));
        socket.on('error', () => {});
        setTimeout(() => reject(new Error('the oversized message was accepted')), 3_000).unref();
      });
      assert.is(closed, 1009);
    });
  });

  test.run();
}
