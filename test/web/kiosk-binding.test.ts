import * as assert from 'uvu/assert';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { start, type Running } from '../api/support.js';
import { suiteNeeding } from '../support/requires.js';

// A panel's browser is bound to its kiosk by an HttpOnly cookie that only configured addresses get;
// the cookie counts only on a same-origin graphql-ws upgrade, never on HTTP requests.

const PANEL_QUERY = '{ kioskPanel { kioskId } }';
// A kiosk-only subscription tells the role: a kiosk hears "no such session"; anyone else is refused.
const KIOSK_PROBE = 'subscription { sessionChanged(sessionId: "1-999") { id } }';
const REFUSED = ['UNAUTHENTICATED', 'FORBIDDEN'];

/** Runs one operation over graphql-ws with the given upgrade headers; resolves with data or the first error code. */
function overSocket(server: Running, headers: Record<string, string>, query = PANEL_QUERY): Promise<{ data?: any; code?: string }> {
  class WithHeaders extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const client = createClient({ url: server.wsUrl, webSocketImpl: WithHeaders, retryAttempts: 0, lazy: true });
  return new Promise((resolve) => {
    let out: { data?: any; code?: string } = {};
    client.subscribe(
      { query },
      {
        next: (r) => void (out = r.errors ? { code: String(r.errors[0]?.extensions?.code) } : { data: r.data }),
        error: (e) => resolve({ code: String((e as any)?.[0]?.extensions?.code ?? (e as any)?.message ?? 'ERROR') }),
        complete: () => resolve(out),
      },
    );
  }).finally(() => client.dispose()) as Promise<{ data?: any; code?: string }>;
}

for (const engine of ['yoga', 'mercurius'] as const) {
  const test = suiteNeeding<{ server?: Running }>(`kiosk binding on ${engine}`, [], {});
  test.before(async (ctx) => {
    ctx.server = await start(engine, { kioskClients: { '1': ['127.0.0.1'] } });
  });
  test.after(async (ctx) => {
    await ctx.server?.close();
  });

  const cookieOf = async (server: Running, path: string) => {
    const res = await fetch(server.base + path);
    return { status: res.status, cookie: res.headers.get('set-cookie'), html: await res.text() };
  };

  test('the configured panel address gets an HttpOnly, SameSite=Strict cookie scoped to /graphql; no token in the page', async ({ server }) => {
    const { status, cookie, html } = await cookieOf(server!, '/kiosk/1');
    assert.is(status, 200);
    assert.ok(cookie, 'a cookie was set');
    assert.match(cookie!, /^ausgabebox_kiosk=1\.[A-Za-z0-9_-]{43}; /);
    assert.match(cookie!, /HttpOnly/);
    assert.match(cookie!, /SameSite=Strict/);
    assert.match(cookie!, /Path=\/graphql/);
    assert.match(html, 'data-bound="true"');
    assert.not.match(html, cookie!.split(';')[0]!.split('=')[1]!, 'the cookie value is not in the page');
  });

  test('a kiosk whose addresses do not include the client gets no cookie and an unbound page', async ({ server }) => {
    const { status, cookie, html } = await cookieOf(server!, '/kiosk/2');
    assert.is(status, 200);
    assert.is(cookie, null);
    assert.match(html, 'data-bound="false"');
  });

  test('graphql-ws with the cookie and the box origin is kiosk 1', async ({ server }) => {
    const { cookie } = await cookieOf(server!, '/kiosk/1');
    const host = new URL(server!.base).host;
    const headers = { cookie: cookie!.split(';')[0]!, origin: `http://${host}` };
    assert.is((await overSocket(server!, headers, KIOSK_PROBE)).code, 'SESSION_NOT_FOUND');
    assert.equal((await overSocket(server!, headers)).data, { kioskPanel: { kioskId: '1' } });
  });

  test('the cookie from another origin, a forged cookie, or no Origin is no kiosk', async ({ server }) => {
    const { cookie } = await cookieOf(server!, '/kiosk/1');
    const pair = cookie!.split(';')[0]!;
    const host = new URL(server!.base).host;
    assert.is((await overSocket(server!, { cookie: pair, origin: `http://${host}` }, KIOSK_PROBE)).code, 'SESSION_NOT_FOUND', 'the control case');
    // A foreign origin does not even get its upgrade (the shared origin rule answers 403).
    const foreign = await overSocket(server!, { cookie: pair, origin: 'http://evil.example' }, KIOSK_PROBE);
    assert.match(foreign.code!, /403/);
    const forged = await overSocket(server!, { cookie: 'ausgabebox_kiosk=2.' + pair.split('.')[1], origin: `http://${host}` }, KIOSK_PROBE);
    assert.ok(REFUSED.includes(forged.code!), forged.code);
    const noOrigin = await overSocket(server!, { cookie: pair }, KIOSK_PROBE);
    assert.ok(REFUSED.includes(noOrigin.code!), noOrigin.code);
  });

  test('an HTTP request carrying the cookie gains nothing (no CSRF through the cookie)', async ({ server }) => {
    const { cookie } = await cookieOf(server!, '/kiosk/1');
    const host = new URL(server!.base).host;
    const res = await fetch(server!.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: cookie!.split(';')[0]!, origin: `http://${host}` },
      body: JSON.stringify({ query: 'mutation { startSession { id } }' }),
    });
    const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    assert.is(body.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  test.run();
}
