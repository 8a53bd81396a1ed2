import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { defaultDistDir } from '../../src/server/pages.js';
import { DOCUMENTS_FILE, documentIdOf, loadPersistedDocuments } from '../../src/server/persisted.js';
import { OPERATIONS } from '../../web/kiosk/operations.js';
import { ensureWebBuilt } from '../support/browser.js';
import { ENGINES, KIOSK, STAFF, start, type Running } from './support.js';

// Persisted documents (src/server/persisted.ts): the build hashes every operation of the kiosk page
// into web/dist/documents.json; the page sends ids; a production box runs nothing else from the
// kiosk role, over HTTP and graphql-ws alike, on both servers. Other roles and a development box
// keep free query texts.

const PANEL_ID = documentIdOf(OPERATIONS.Panel);
const UNKNOWN_ID = documentIdOf('query Other { kioskPanel { kioskId } }');

async function post(s: Running, body: Record<string, unknown>, token: string) {
  const res = await fetch(s.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { data?: any; errors?: Array<{ extensions?: { code?: string } }> };
  return { status: res.status, data: json.data, code: json.errors?.[0]?.extensions?.code };
}

function overSocket(s: Running, query: string, token: string): Promise<{ data?: any; code?: string }> {
  const client = createClient({ url: s.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${token}` } });
  return new Promise<{ data?: any; code?: string }>((resolve) => {
    let out: { data?: any; code?: string } = {};
    client.subscribe(
      { query },
      {
        next: (r) => void (out = r.errors ? { code: String(r.errors[0]?.extensions?.code) } : { data: r.data }),
        error: (e) => resolve({ code: String((e as any)?.[0]?.extensions?.code ?? 'ERROR') }),
        complete: () => resolve(out),
      },
    );
  }).finally(() => client.dispose());
}

test('the build persists every operation of the kiosk page under the hash of its text', async () => {
  await ensureWebBuilt();
  const written = JSON.parse(readFileSync(join(defaultDistDir(), DOCUMENTS_FILE), 'utf8')) as Record<string, string>;
  const sources = Object.values(OPERATIONS);
  assert.is(Object.keys(written).length, sources.length);
  for (const source of sources) assert.is(written[documentIdOf(source)], source);
  assert.is(loadPersistedDocuments(defaultDistDir()).size, sources.length);
  assert.match(readFileSync(join(defaultDistDir(), 'kiosk.js'), 'utf8'), PANEL_ID, 'the page bundle carries the ids');
});

test('a documents file whose text does not match its id is refused, naming the way out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-docs-'));
  try {
    writeFileSync(join(dir, DOCUMENTS_FILE), JSON.stringify({ [PANEL_ID]: 'mutation { cancelPickup(reference: "X") { status } }' }));
    assert.throws(() => loadPersistedDocuments(dir), /does not hash to its id; rebuild the pages with npm run build:web/);
    rmSync(join(dir, DOCUMENTS_FILE));
    assert.is(loadPersistedDocuments(dir).size, 0, 'no file: no persisted documents');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();

for (const engine of ENGINES) {
  const t = suite<{ prod?: Running; dev?: Running }>(`persisted documents on ${engine}`, {});
  t.before(async (ctx) => {
    await ensureWebBuilt();
    ctx.prod = await start(engine, { production: true, harness: false });
    ctx.dev = await start(engine);
  });
  t.after(async (ctx) => {
    await ctx.prod?.close();
    await ctx.dev?.close();
  });

  t('production: a kiosk runs a persisted document by id over HTTP (documentId or query) and graphql-ws', async ({ prod }) => {
    for (const body of [{ documentId: PANEL_ID }, { query: PANEL_ID }]) {
      const out = await post(prod!, body, KIOSK);
      assert.is(out.status, 200, JSON.stringify(body));
      assert.is(out.data?.kioskPanel?.kioskId, '1');
    }
    const ws = await overSocket(prod!, PANEL_ID, KIOSK);
    assert.is(ws.data?.kioskPanel?.kioskId, '1');
  });

  t('production: any other text from a kiosk is refused with PERSISTED_DOCUMENT_REQUIRED, even the same operation as text', async ({ prod }) => {
    for (const query of [OPERATIONS.Panel, '{ compartments { id occupied } }']) {
      const http = await post(prod!, { query }, KIOSK);
      assert.equal([http.status, http.code, http.data], [400, 'PERSISTED_DOCUMENT_REQUIRED', undefined]);
      const ws = await overSocket(prod!, query, KIOSK);
      assert.is(ws.code, 'PERSISTED_DOCUMENT_REQUIRED');
    }
  });

  t('an unknown or malformed id is a coded client error; other roles keep free texts in production', async ({ prod }) => {
    const unknown = await post(prod!, { documentId: UNKNOWN_ID }, KIOSK);
    assert.equal([unknown.status, unknown.code], [400, 'PERSISTED_DOCUMENT_NOT_FOUND']);
    assert.is((await overSocket(prod!, UNKNOWN_ID, KIOSK)).code, 'PERSISTED_DOCUMENT_NOT_FOUND');
    const malformed = await post(prod!, { documentId: 'sha256:nothex' }, KIOSK);
    assert.equal([malformed.status, malformed.code], [400, 'BAD_REQUEST']);
    const both = await post(prod!, { documentId: PANEL_ID, query: '{ __typename }' }, KIOSK);
    assert.equal([both.status, both.code], [400, 'BAD_REQUEST']);
    const staff = await post(prod!, { query: '{ compartments { id } }' }, STAFF);
    assert.is(staff.status, 200);
    assert.ok(staff.data.compartments.length > 0);
  });

  t('development: a kiosk may still send texts (tests, GraphiQL), and ids work too', async ({ dev }) => {
    assert.is((await post(dev!, { query: OPERATIONS.Panel }, KIOSK)).data?.kioskPanel?.kioskId, '1');
    assert.is((await post(dev!, { documentId: PANEL_ID }, KIOSK)).data?.kioskPanel?.kioskId, '1');
  });

  t.run();
}
