import { request as httpRequest } from 'node:http';
import { auditServer } from 'graphql-http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import { MAX_BODY_BYTES } from '../../src/server/guard.js';
import { ENGINES, INTEGRATION, KIOSK, MONITOR, REGISTER, registration, STAFF, start, type Engine, type Running } from './support.js';

/**
 * The HTTP and WebSocket transport contract, run unchanged against both servers over real sockets:
 * graphql-http's audits, every client mistake with its status and code, CSRF, CORS, GraphiQL
 * without a network, graphql-ws close codes and the init timeout.
 */

async function using(engine: Engine, fn: (s: Running) => Promise<void>, options = {}) {
  const s = await start(engine, options);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

interface Answer {
  status: number;
  type: string;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } | null;
  headers: Headers;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: Answer['body'] = null;
  try {
    body = JSON.parse(text) as Answer['body'];
  } catch {
    // not JSON: body stays null and the assertions say so
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body, headers: res.headers };
}

const json = (payload: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${MONITOR}`, ...headers },
  body: typeof payload === 'string' ? payload : JSON.stringify(payload),
});

const codeOf = (a: Answer) => a.body?.errors?.[0]?.extensions?.code;

/** Opens a raw graphql-ws socket and resolves its close code (or 'open' after `waitMs`). */
function closeCode(url: string, send: (ws: WebSocket) => void, waitMs = 2_000, headers: Record<string, string> = {}): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'graphql-transport-ws', { headers });
    const timer = setTimeout(() => {
      ws.terminate();
      resolve('open');
    }, waitMs);
    ws.on('open', () => send(ws));
    ws.on('error', () => {});
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

for (const engine of ENGINES) {
  const test = suite(`api transport (${engine})`);

  test('graphql-http server audits: no error and no warning', async () => {
    await using(engine, async (s) => {
      const results = await auditServer({ url: s.url, fetchFn: fetch });
      const failed = results.filter((r) => r.status !== 'ok').map((r) => `${r.status} ${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`);
      assert.ok(results.length > 40, `${results.length} audits ran`);
      assert.equal(failed, []);
    });
  });

  test('answers application/graphql-response+json: 200 with data, 400 for request errors; application/json keeps 200', async () => {
    await using(engine, async (s) => {
      const ok = await call(s.url, json({ query: '{ box { name } }' }));
      assert.is(ok.status, 200);
      assert.match(ok.type, /^application\/graphql-response\+json/);
      const parse = await call(s.url, json({ query: '{ box { name }' }));
      assert.equal([parse.status, codeOf(parse), 'data' in (parse.body ?? {})], [400, 'GRAPHQL_PARSE_FAILED', false]);
      const invalid = await call(s.url, json({ query: '{ box { nope } }' }));
      assert.equal([invalid.status, codeOf(invalid)], [400, 'GRAPHQL_VALIDATION_FAILED']);
      const legacy = await call(s.url, json({ query: '{ box { nope } }' }, { accept: 'application/json' }));
      assert.equal([legacy.status, codeOf(legacy)], [200, 'GRAPHQL_VALIDATION_FAILED']);
      assert.match(legacy.type, /^application\/json/);
    });
  });

  test('every client mistake is a 4xx with a body and a catalog code, never INTERNAL', async () => {
    await using(engine, async (s) => {
      const typed = `query($n: Int!) { pickups(first: $n) { totalCount } }`;
      const cases: Array<[string, Promise<Answer>, number, string]> = [
        ['PUT', call(s.url, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }), 405, 'METHOD_NOT_ALLOWED'],
        ['DELETE', call(s.url, { method: 'DELETE' }), 405, 'METHOD_NOT_ALLOWED'],
        ['GET mutation', call(`${s.url}?query=${encodeURIComponent('mutation { startSession { id } }')}`, { headers: { authorization: `Bearer ${KIOSK}` } }), 405, 'METHOD_NOT_ALLOWED'],
        ['no query', call(s.url, json({ variables: {} })), 400, 'BAD_REQUEST'],
        ['GET without query', call(s.url, { headers: { accept: 'application/json' } }), 400, 'BAD_REQUEST'],
        ['query as number', call(s.url, json({ query: 42 })), 400, 'BAD_REQUEST'],
        ['query as boolean', call(s.url, json({ query: true })), 400, 'BAD_REQUEST'],
        ['query as array', call(s.url, json({ query: ['{ box { name } }'] })), 400, 'BAD_REQUEST'],
        ['variables as string', call(s.url, json({ query: '{ box { name } }', variables: '{}' })), 400, 'BAD_REQUEST'],
        ['operationName as number', call(s.url, json({ query: '{ box { name } }', operationName: 1 })), 400, 'BAD_REQUEST'],
        ['extensions as array', call(s.url, json({ query: '{ box { name } }', extensions: [] })), 400, 'BAD_REQUEST'],
        ['malformed JSON', call(s.url, json('{"query": ')), 400, 'BAD_REQUEST'],
        ['batch', call(s.url, json([{ query: '{ box { name } }' }])), 400, 'BATCH_NOT_SUPPORTED'],
        ['malformed GET variables', call(`${s.url}?query=${encodeURIComponent('{ box { name } }')}&variables=%7B`), 400, 'BAD_REQUEST'],
        ['wrong variable type', call(s.url, json({ query: typed, variables: { n: 'two' } }, { authorization: `Bearer ${STAFF}` })), 400, 'BAD_USER_INPUT'],
        ['null for a non-null variable', call(s.url, json({ query: typed, variables: { n: null } }, { authorization: `Bearer ${STAFF}` })), 400, 'BAD_USER_INPUT'],
        ['unknown operationName', call(s.url, json({ query: 'query A { box { name } }', operationName: 'B' })), 400, 'BAD_REQUEST'],
        ['text/plain', call(s.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"query":"{ box { name } }"}' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['no content type', call(s.url, { method: 'POST', body: new Uint8Array(Buffer.from('{"query":"{ box { name } }"}')) }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['form', call(s.url, { method: 'POST', body: new URLSearchParams({ query: 'mutation { startSession { id } }' }) }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['multipart', call(s.url, { method: 'POST', body: (() => { const f = new FormData(); f.set('operations', '{"query":"mutation { startSession { id } }"}'); return f; })() }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['application/graphql', call(s.url, { method: 'POST', headers: { 'content-type': 'application/graphql' }, body: '{ box { name } }' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['accept text/plain only', call(s.url, json({ query: '{ box { name } }' }, { accept: 'text/plain' })), 406, 'NOT_ACCEPTABLE'],
        ['unknown path', call(`${s.base}/nothing-here`), 404, 'NOT_FOUND'],
        ['POST /health', call(`${s.base}/health`, { method: 'POST' }), 405, 'METHOD_NOT_ALLOWED'],
      ];
      for (const [name, answer, status, code] of cases) {
        const a = await answer;
        assert.equal([a.status, codeOf(a)], [status, code], name);
        assert.ok(a.body?.errors?.[0]?.message, `${name}: a message`);
      }
      assert.is(s.box.snapshot().sessions?.length ?? 0, 0, 'no form or multipart body started a session');
    });
  });

  test('a subscription over plain HTTP is a clean 4xx that names the WebSocket transport', async () => {
    await using(engine, async (s) => {
      const a = await call(s.url, json({ query: 'subscription { pickupEvents { reference } }' }, { authorization: `Bearer ${INTEGRATION}` }));
      assert.ok(a.status === 400 || a.status === 406, `status ${a.status}`);
      assert.match(a.body!.errors![0]!.message, /graphql-ws/);
      assert.ok(['BAD_REQUEST', 'NOT_ACCEPTABLE'].includes(codeOf(a)!));
    });
  });

  test('a 10 MB body: Node fetch receives the 413 with its code (fixed length and chunked)', async () => {
    await using(engine, async (s) => {
      const big = JSON.stringify({ query: '{ box { name } }', variables: { pad: 'x'.repeat(10 * 1024 * 1024) } });
      const fixed = await call(s.url, json(big));
      assert.equal([fixed.status, codeOf(fixed)], [413, 'REQUEST_TOO_LARGE']);
      let sent = 0;
      const chunks = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ === 40) controller.close();
          else controller.enqueue(new TextEncoder().encode('x'.repeat(256 * 1024)));
        },
      });
      const chunked = await call(s.url, { ...json(''), body: chunks, duplex: 'half' } as RequestInit);
      assert.equal([chunked.status, codeOf(chunked)], [413, 'REQUEST_TOO_LARGE']);
      const ok = await call(s.url, json({ query: '{ box { name } }', variables: { pad: 'x'.repeat(MAX_BODY_BYTES - 100) } }));
      assert.is(ok.status, 200, 'a body just under the limit passes');
    });
  });

  test('CORS: only configured origins; same-origin pages need nothing; preflights answered alike', async () => {
    await using(
      engine,
      async (s) => {
        const origin = 'https://staff.example.org';
        const pre = await fetch(s.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });
        assert.is(pre.status, 204);
        assert.is(pre.headers.get('access-control-allow-origin'), origin);
        assert.is(pre.headers.get('access-control-allow-credentials'), null, 'no credentials: cookies stay same-origin');
        assert.match(pre.headers.get('access-control-allow-headers') ?? '', /authorization/);
        const evil = await fetch(s.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
        assert.is(evil.status, 403);
        assert.is(evil.headers.get('access-control-allow-origin'), null);
        const evilPost = await call(s.url, json({ query: '{ box { name } }' }, { origin: 'https://evil.example' }));
        assert.equal([evilPost.status, codeOf(evilPost)], [403, 'ORIGIN_NOT_ALLOWED']);
        const evilGet = await call(`${s.url}?query=${encodeURIComponent('{ box { name } }')}`, { headers: { origin: 'https://evil.example' } });
        assert.is(evilGet.status, 403);
        const own = new URL(s.url).origin;
        const same = await call(s.url, json({ query: '{ box { name } }' }, { origin: own }));
        assert.is(same.status, 200, 'the box\'s own pages are same-origin');
        const allowed = await call(s.url, json({ query: '{ box { name } }' }, { origin }));
        assert.is(allowed.status, 200);
        assert.is(allowed.headers.get('access-control-allow-origin'), origin);
      },
      { cors: { origins: ['https://staff.example.org'] } },
    );
  });

  test('without configured origins every foreign origin is refused', async () => {
    await using(engine, async (s) => {
      const pre = await fetch(s.url, { method: 'OPTIONS', headers: { origin: 'https://staff.example.org', 'access-control-request-method': 'POST' } });
      assert.is(pre.status, 403);
      const code = await closeCode(s.wsUrl, (ws) => ws.send(JSON.stringify({ type: 'connection_init' })), 1_000, { origin: 'https://evil.example' });
      assert.is(code, 1006, 'the WebSocket upgrade from a foreign page is refused');
    });
  });

  test('GraphiQL is served from the installed packages and references no external host', async () => {
    await using(engine, async (s) => {
      for (const url of [s.url, `${s.base}/graphiql`]) {
        const res = await fetch(url, { headers: { accept: 'text/html' } });
        assert.is(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /text\/html/);
        const html = await res.text();
        assert.match(html, /graphiql/i);
        assert.not.match(html, /\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i, 'no script or style from another host');
        assert.not.match(html, /unpkg\.com|jsdelivr|githubusercontent|cdnjs/i);
      }
    });
  });

  test('graphql-ws: queries, mutations and subscriptions on one connection', async () => {
    await using(engine, async (s) => {
      const client = s.ws(INTEGRATION);
      const once = (query: string, variables?: Record<string, unknown>) =>
        new Promise<any>((resolve, reject) => {
          let result: unknown;
          client.subscribe({ query, variables }, { next: (r) => (result = r), error: reject, complete: () => resolve(result) });
        });
      const q = await once('{ box { name } }');
      assert.type(q.data.box.name, 'string');
      const m = await once(REGISTER, registration('V-WS-0001'));
      assert.is(m.data.registerPickup.status, 'REGISTERED');
      assert.is(s.box.pickup('V-WS-0001')!.status, 'REGISTERED');
      const wrong = await once(`query($n: Int!) { pickups(first: $n) { totalCount } }`, { n: 'x' }).catch((e) => e);
      assert.match(JSON.stringify(wrong), /BAD_USER_INPUT|Variable/);
    });
  });

  test('graphql-ws close codes: 4400 garbage, 4408 no connection_init, 4403 unknown token, 1009 oversized', async () => {
    await using(
      engine,
      async (s) => {
        assert.is(await closeCode(s.wsUrl, (ws) => ws.send('not json at all')), 4400);
        assert.is(await closeCode(s.wsUrl, (ws) => ws.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: '{ box { name } }' } }))), 4401, 'subscribe before init');
        assert.is(await closeCode(s.wsUrl, () => {}), 4408);
        assert.is(await closeCode(s.wsUrl, (ws) => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer not-a-configured-token-000' } }))), 4403);
        assert.is(await closeCode(s.wsUrl, (ws) => ws.send(JSON.stringify({ type: 'connection_init' })), 500, { authorization: 'Bearer not-a-configured-token-000' }), 4403);
        assert.is(await closeCode(s.wsUrl, (ws) => ws.send('x'.repeat(MAX_BODY_BYTES + 1))), 1009);
        assert.is(await closeCode(s.wsUrl, (ws) => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${MONITOR}` } })), 800), 'open', 'a good connection stays');
      },
      { wsInitTimeoutMs: 300 },
    );
  });

  test('500 WebSockets that never send connection_init are all closed by the server (4408)', async () => {
    await using(
      engine,
      async (s) => {
        const codes = await Promise.all(Array.from({ length: 500 }, () => closeCode(s.wsUrl, () => {}, 10_000)));
        const counts: Record<string, number> = {};
        for (const c of codes) counts[c] = (counts[c] ?? 0) + 1;
        assert.equal(counts, { 4408: 500 });
      },
      { wsInitTimeoutMs: 500 },
    );
  });

  test.run();
}

/** Over a raw socket: a request line the server cannot route still gets an HTTP answer, not a hang. */
const raw = suite('api transport (raw sockets)');
raw('an oversized declared body is answered with 413 before it is sent', async () => {
  const s = await start('yoga');
  try {
    const { port } = new URL(s.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.is(status, 413);
  } finally {
    await s.close();
  }
});
raw.run();
