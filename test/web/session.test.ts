import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ENGINES, HARNESS, INTEGRATION, KIOSK, MONITOR, STAFF, start, type Running } from '../api/support.js';

// Sign-in of the box's own pages: a staff or monitor credential is exchanged once for an HttpOnly,
// SameSite=Strict cookie scoped to /graphql; that cookie authenticates only graphql-ws upgrades
// from the box's own origin, and signing out forgets it on the box.

const SESSION = '/graphql/session';

async function signIn(s: Running, token: string, origin = s.base) {
  return fetch(s.base + SESSION, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ token }) });
}

const cookieOf = (res: Response) => (res.headers.get('set-cookie') ?? '').split(';')[0]!;

/** Runs one operation over a graphql-ws connection opened with these upgrade headers. */
function overWs(s: Running, headers: Record<string, string>, query: string): Promise<{ data?: any; errors?: any[] }> {
  class WithHeaders extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  const client = createClient({ url: s.wsUrl, webSocketImpl: WithHeaders, retryAttempts: 0, lazy: true });
  return new Promise((resolve, reject) => {
    let result: { data?: any; errors?: any[] } = {};
    client.subscribe({ query }, { next: (r) => void (result = r as typeof result), error: reject, complete: () => resolve(result) });
  }).finally(() => client.dispose()) as Promise<{ data?: any; errors?: any[] }>;
}

for (const engine of (process.env.ENGINE ? [process.env.ENGINE] : ENGINES) as typeof ENGINES) {
  const test = suite<{ s?: Running }>(`page sign-in on ${engine}`, {});
  test.before(async (ctx) => {
    ctx.s = await start(engine);
  });
  test.after(async (ctx) => {
    await ctx.s?.close();
  });

  test('a staff credential becomes an HttpOnly, SameSite=Strict cookie for /graphql that carries no token', async ({ s }) => {
    const res = await signIn(s!, STAFF);
    assert.is(res.status, 200);
    assert.equal(await res.json(), { role: 'staff', identity: 'anna' });
    const setCookie = res.headers.get('set-cookie')!;
    assert.match(setCookie, /^ausgabebox_session=[A-Za-z0-9_-]{40,};/);
    for (const attribute of ['HttpOnly', 'SameSite=Strict', 'Path=/graphql']) assert.ok(setCookie.includes(attribute), attribute);
    assert.not.ok(setCookie.includes(STAFF), 'the cookie is an opaque id, not the credential');
    assert.is(res.headers.get('cache-control'), 'no-store');
  });

  test('the cookie authenticates a graphql-ws upgrade from the box origin as that staff member', async ({ s }) => {
    const cookie = cookieOf(await signIn(s!, STAFF));
    const r = await overWs(s!, { cookie, origin: s!.base }, '{ compartments { id } }');
    assert.is(r.errors, undefined);
    assert.is(r.data.compartments.length, 24);
    const me = await fetch(s!.base + SESSION, { headers: { cookie, origin: s!.base } });
    assert.equal(await me.json(), { role: 'staff', identity: 'anna' });
  });

  test('from another origin, or with no origin, the cookie counts for nothing', async ({ s }) => {
    const cookie = cookieOf(await signIn(s!, STAFF));
    const noOrigin = await overWs(s!, { cookie }, '{ compartments { id } }');
    assert.is(noOrigin.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', 'no origin');
    // A foreign page's upgrade is refused outright (ORIGIN_NOT_ALLOWED, src/server/ws.ts).
    const foreign = await overWs(s!, { cookie, origin: 'http://evil.example' }, '{ compartments { id } }').then(
      () => 'answered',
      () => 'refused',
    );
    assert.is(foreign, 'refused', 'another origin');
    assert.is((await signIn(s!, STAFF, 'http://evil.example')).status, 403, 'no sign-in from a foreign page');
    const plainHttp = await fetch(s!.url, { method: 'POST', headers: { 'content-type': 'application/json', cookie, origin: s!.base }, body: JSON.stringify({ query: '{ compartments { id } }' }) });
    assert.is(((await plainHttp.json()) as any).errors[0].extensions.code, 'UNAUTHENTICATED', 'HTTP GraphQL ignores the cookie (no CSRF through forms)');
  });

  test('only staff and monitor credentials open a page; wrong ones and other roles are refused', async ({ s }) => {
    for (const token of ['not-a-token-at-all-000', KIOSK, INTEGRATION, HARNESS]) {
      const res = await signIn(s!, token);
      assert.is(res.status, 401, token);
      assert.is(res.headers.get('set-cookie'), null);
    }
    const form = await fetch(s!.base + SESSION, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: s!.base }, body: `token=${STAFF}` });
    assert.is(form.status, 415, 'a cross-site form cannot post JSON');
  });

  test('a monitor session reads but cannot change anything', async ({ s }) => {
    const cookie = cookieOf(await signIn(s!, MONITOR));
    const read = await overWs(s!, { cookie, origin: s!.base }, '{ devices { shredder { state } } }');
    assert.is(read.data.devices.shredder.state, 'idle');
    const write = await overWs(s!, { cookie, origin: s!.base }, 'mutation { setCompartmentService(id: "A01", inService: false) { inService } }');
    assert.is(write.errors?.[0]?.extensions?.code, 'FORBIDDEN');
    assert.is(s!.box.compartment('A01')!.inService, true);
  });

  test('signing out forgets the session on the box and closes its connections', async ({ s }) => {
    const cookie = cookieOf(await signIn(s!, STAFF));
    class WithHeaders extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers: { cookie, origin: s!.base } });
      }
    }
    const closed = new Promise<number>((resolve) => {
      const client = createClient({ url: s!.wsUrl, webSocketImpl: WithHeaders, retryAttempts: 0, lazy: false, onNonLazyError: () => {}, on: { closed: (e) => resolve((e as { code: number }).code) } });
      client.subscribe({ query: 'subscription { alarms { kind } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    await new Promise((r) => setTimeout(r, 150));
    const out = await fetch(s!.base + SESSION, { method: 'DELETE', headers: { cookie, origin: s!.base } });
    assert.is(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /ausgabebox_session=;.*Max-Age=0/);
    assert.is(await closed, 4401);
    const again = await overWs(s!, { cookie, origin: s!.base }, '{ compartments { id } }');
    assert.is(again.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    assert.is((await fetch(s!.base + SESSION, { headers: { cookie, origin: s!.base } })).status, 401);
  });

  test.run();
}
