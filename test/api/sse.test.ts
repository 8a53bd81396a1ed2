import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { INTEGRATION, REGISTER, registration, start } from './support.js';

/** Yoga also serves subscriptions over Server-Sent Events (graphql-sse "distinct connections"). */

test('yoga streams a subscription over SSE to a client that accepts text/event-stream', async () => {
  const s = await start('yoga');
  const abort = new AbortController();
  try {
    const res = await fetch(s.url, {
      method: 'POST',
      signal: abort.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${INTEGRATION}` },
      body: JSON.stringify({ query: 'subscription { pickupEvents { reference status } }' }),
    });
    assert.is(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    await s.gql(REGISTER, registration('V-SSE-0001'), INTEGRATION);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 3_000;
    while (!/data: .*V-SSE-0001/.test(text) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const line = /data: (.*V-SSE-0001.*)/.exec(text)?.[1];
    assert.ok(line, `an event arrived, got: ${text}`);
    assert.equal(JSON.parse(line!).data.pickupEvents, { reference: 'V-SSE-0001', status: 'REGISTERED' });
    await reader.cancel().catch(() => {});
  } finally {
    abort.abort();
    await s.close();
  }
});

test('an SSE subscription without a token is refused with UNAUTHENTICATED', async () => {
  const s = await start('yoga');
  try {
    const res = await fetch(s.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { pickupEvents { reference } }' }),
    });
    const text = await res.text();
    assert.match(text, /UNAUTHENTICATED/);
  } finally {
    await s.close();
  }
});

test.run();
