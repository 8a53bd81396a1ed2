import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AuthCtx, Credential } from '../../actors/auth.js';
import { authUnderTest, registryUnderTest } from '../security/registry-rig.js';

// An auth actor back after a crash or a revival hears which PINs the registry has made and not
// taken back (`credential.expect`, sent after every `credential.*` before it): what it holds beyond
// them goes, a PIN being released is held aside (or live again), and what it never got goes back to
// the registry, whose pickups get a new PIN.

const auth = authUnderTest();
const registry = registryUnderTest();
const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);
const credential = (pickupId: string, serial: number, held?: true): Credential => ({ pickupId, numberKey: 'k', serial, pinHash: `h-${pickupId}-${serial}`, ...(held ? { held } : {}) });

test('auth: revived, it keeps the PINs the registry names, drops the others, fixes what is held aside and names what it lacks', () => {
  const ctx: AuthCtx = {
    credentials: { P1: credential('P1', 1), P2: credential('P2', 1), P3: credential('P3', 2, true), P9: credential('P9', 1) },
    numberThrottles: {},
    kioskThrottles: {},
  };
  const restarted = auth.step(ctx, { type: 'restarted', now: NOW });
  assert.equal(restarted.effects, [{ type: 'send', to: 'registry', message: { type: 'auth.restarted' } }]);

  const expect = [
    { pickupId: 'P1', serial: 1, held: true }, // being released now
    { pickupId: 'P2', serial: 2, held: false }, // reissued while the auth actor had failed
    { pickupId: 'P3', serial: 2, held: false }, // its release did not happen: live again
    { pickupId: 'P4', serial: 1, held: false }, // made while it had failed
  ];
  const { ctx: after, effects } = auth.step(ctx, { type: 'credential.expect', credentials: expect, now: NOW });
  assert.equal(Object.keys(after.credentials).sort(), ['P1', 'P3']);
  assert.is(after.credentials.P1!.held, true);
  assert.is(after.credentials.P3!.held, undefined);
  assert.equal(effects, [{ type: 'send', to: 'registry', message: { type: 'credential.missing', pickups: [{ pickupId: 'P2', serial: 2 }, { pickupId: 'P4', serial: 1 }] } }]);
});

test('registry: a PIN the auth actor never got is replaced, unless it was replaced or died meanwhile', () => {
  let ctx = registry.init(undefined, 'registry');
  const request = { requestId: 'r', replyTo: 'replies' } as const;
  ({ ctx } = registry.step(ctx, { type: 'pickup.register', input: { reference: 'V-1', documentKind: 'ID_CARD', phone: '+4915228817386', birthDate: '1980-04-12' }, ...request, now: NOW }));
  const p = ctx.pickups.P1!;
  ctx = { ...ctx, pickups: { ...ctx.pickups, P1: { ...p, status: 'READY', pinSerial: 1, pinIssued: true, pinQueued: true, compartmentId: 'A01' } } };
  const asked = registry.step(ctx, { type: 'auth.restarted', now: NOW });
  assert.equal(asked.effects, [{ type: 'send', to: 'auth', message: { type: 'credential.expect', credentials: [{ pickupId: 'P1', serial: 1, held: false }] } }]);

  const missing = registry.step(ctx, { type: 'credential.missing', pickups: [{ pickupId: 'P1', serial: 1 }], now: NOW });
  assert.is(missing.ctx.pickups.P1!.pinSerial, 2, 'a new PIN');
  assert.ok(missing.effects.some((e) => e.type === 'io' && (e.op as { kind: string }).kind === 'issuePin'));
  const stale = registry.step(ctx, { type: 'credential.missing', pickups: [{ pickupId: 'P1', serial: 0 }], now: NOW });
  assert.is(stale.ctx, ctx, 'an older serial: replaced already, nothing to do');
});

test.run();
