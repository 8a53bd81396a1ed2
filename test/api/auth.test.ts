import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TokenAuthenticator } from '../../src/server/auth.js';

const tokens = {
  kiosk: 'kiosk-token-000000000001',
  staff: { anna: 'staff-anna-token-00000002', ben: 'staff-ben-token-000000003' },
  integration: 'integration-token-0000004',
  monitor: 'monitor-token-000000000005',
  harness: 'harness-token-000000000006',
};

test('a bearer token grants its role; a staff token carries the staff identity', () => {
  const auth = new TokenAuthenticator(tokens, '1', true);
  assert.equal(auth.resolve('Bearer staff-ben-token-000000003'), { role: 'staff', identity: 'ben', kioskId: null });
  assert.equal(auth.resolve('bearer integration-token-0000004'), { role: 'integration', identity: 'integration', kioskId: null });
  assert.equal(auth.resolve('Bearer kiosk-token-000000000001'), { role: 'kiosk', identity: 'kiosk/1', kioskId: '1' });
  assert.equal(auth.resolve('Bearer harness-token-000000000006')?.role, 'harness');
});

test('a missing, malformed or unknown token grants nothing', () => {
  const auth = new TokenAuthenticator(tokens, '1', true);
  for (const header of [undefined, null, '', 'staff-ben-token-000000003', 'Basic abc', 'Bearer ', 'Bearer staff-ben-token-00000000', 'Bearer staff-ben-token-0000000033']) {
    assert.is(auth.resolve(header), null, String(header));
  }
});

test('the harness token is ignored unless the harness is enabled', () => {
  const auth = new TokenAuthenticator(tokens, '1', false);
  assert.is(auth.resolve('Bearer harness-token-000000000006'), null);
});

test('kiosk tokens can be bound to several kiosks', () => {
  const auth = new TokenAuthenticator({ kiosk: { '1': 'kiosk-one-token-0000000001', '2': 'kiosk-two-token-0000000002' } }, '1', false);
  assert.is(auth.resolve('Bearer kiosk-two-token-0000000002')?.kioskId, '2');
});

test('short or shared tokens are refused at start-up', () => {
  assert.throws(() => new TokenAuthenticator({ monitor: 'short' }, '1', false), /at least 16/);
  assert.throws(() => new TokenAuthenticator({ monitor: 'same-token-0000000000001', integration: 'same-token-0000000000001' }, '1', false), /share/);
});

test.run();
