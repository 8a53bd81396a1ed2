import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpSmsGateway } from '../../drivers/sms/http-gateway.js';
import { MONDAY_10AM, PHONE, readyPickup, testBox } from '../helpers.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: { id: string; to: string; text: string };
}

/** A real HTTP server on 127.0.0.1 that plays the SMS provider, failing the first `failures` requests. */
async function provider(failures = 0, status = 503) {
  const received: Received[] = [];
  let left = failures;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.headers.authorization !== 'Bearer s3cret') {
        res.writeHead(401).end();
        return;
      }
      if (left > 0) {
        left--;
        res.writeHead(status).end('{"error":"busy"}');
        return;
      }
      const body = JSON.parse(raw);
      received.push({ headers: req.headers, body });
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `prov-${received.length}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/messages`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('the HTTP gateway POSTs JSON with the bearer token and the idempotency key', async () => {
  const p = await provider();
  const gw = new HttpSmsGateway({ url: p.url, token: 's3cret' });
  const result = await gw.send({ id: 'pin-P1-1', to: PHONE, text: 'PIN: 123456' });
  assert.is(result.providerId, 'prov-1');
  assert.is(p.received[0]!.headers['idempotency-key'], 'pin-P1-1');
  assert.equal(p.received[0]!.body, { id: 'pin-P1-1', to: PHONE, text: 'PIN: 123456', from: null });
  await p.close();
});

test('a refused token and a server error reject with stable codes', async () => {
  const p = await provider(1, 503);
  try {
    await new HttpSmsGateway({ url: p.url, token: 's3cret' }).send({ id: 'a', to: PHONE, text: 'x' });
    assert.unreachable();
  } catch (error) {
    assert.is((error as { code: string }).code, 'SMS_GATEWAY_HTTP_503');
  }
  try {
    await new HttpSmsGateway({ url: p.url, token: 'wrong' }).send({ id: 'b', to: PHONE, text: 'x' });
    assert.unreachable();
  } catch (error) {
    assert.is((error as { code: string }).code, 'SMS_GATEWAY_HTTP_401');
  }
  await p.close();
});

test('an unreachable gateway rejects as unavailable', async () => {
  const p = await provider();
  await p.close();
  try {
    await new HttpSmsGateway({ url: p.url, token: 's3cret' }).send({ id: 'c', to: PHONE, text: 'x' });
    assert.unreachable();
  } catch (error) {
    assert.is((error as { code: string }).code, 'SMS_GATEWAY_UNAVAILABLE');
  }
});

test('the outbox retries a failing HTTP gateway with backoff until the PIN is delivered once', async () => {
  const p = await provider(3, 502);
  const { SimulatedClock } = await import('../../actors/runtime/clock.js');
  const clock = new SimulatedClock(MONDAY_10AM);
  const t = await testBox({ sms: { maxAttempts: 5, baseDelayMs: 10_000, maxDelayMs: 60_000 } }, { clock });
  // Swap the simulated gateway's send for the real HTTP one: the outbox only knows the port.
  const http = new HttpSmsGateway({ url: p.url, token: 's3cret' });
  t.hw.sms.send = (m) => http.send(m);
  await readyPickup(t, 'V-2026-0200').catch(() => undefined);
  for (let i = 0; i < 4 && p.received.length === 0; i++) await t.box.advance(60_000);
  assert.is(p.received.length, 1, 'delivered exactly once');
  assert.match(p.received[0]!.body.text, /PIN: \d{6}/);
  assert.is(Object.keys(t.box.outbox().pending).length, 0, 'the outbox is empty again');
  await t.box.close();
  await p.close();
});

test('after the retries an undeliverable SMS raises an alarm, and it still goes out once the gateway is back', async () => {
  const p = await provider(6, 500);
  const { SimulatedClock } = await import('../../actors/runtime/clock.js');
  const t = await testBox({ sms: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 10_000 } }, { clock: new SimulatedClock(MONDAY_10AM) });
  const http = new HttpSmsGateway({ url: p.url, token: 's3cret' });
  t.hw.sms.send = (m) => http.send(m);
  await readyPickup(t, 'V-2026-0201').catch(() => undefined);
  for (let i = 0; i < 3; i++) await t.box.advance(10_000);
  assert.ok(t.box.alarms(true).some((a) => a.code === 'SMS_UNDELIVERABLE'));
  for (let i = 0; i < 6 && p.received.length === 0; i++) await t.box.advance(10_000);
  assert.is(p.received.length, 1);
  assert.not.ok(t.box.alarms(true).some((a) => a.code === 'SMS_UNDELIVERABLE'), 'the alarm clears on delivery');
  await t.box.close();
  await p.close();
});

test.run();
