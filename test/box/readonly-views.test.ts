import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AlarmsCtx } from '../../actors/alarms.js';
import type { RegistryCtx } from '../../actors/registry.js';
import type { Pickup } from '../../actors/pickup.js';
import { ALARMS, REGISTRY, pickupAddress } from '../../actors/messages.js';
import { authenticate, readyPickup, testBox, wrongPin } from '../helpers.js';

// What the box hands out is a copy or a read-only view, never an actor's committed context: a
// caller that changes what it got changes nothing in the box. (The `@ts-expect-error` lines are
// the compile-time half: `npm run typecheck` fails if such a write compiles.)

test('a pickup read through the box API is a copy: changing it changes nothing in the box', async () => {
  const t = await testBox();
  await readyPickup(t, 'V-RO-1');
  const p = t.box.pickup('V-RO-1')!;
  // @ts-expect-error the API's pickups are read-only
  p.status = 'COLLECTED';
  // @ts-expect-error nested records too
  p.claim = { sessionId: 'intruder', until: Number.MAX_SAFE_INTEGER, factor: 'birthDate' };
  const listed = t.box.pickups()[0]!;
  // @ts-expect-error the list's entries as well
  listed.failedAttempts = 99;
  assert.is(t.box.pickup('V-RO-1')!.status, 'READY');
  assert.is(t.box.pickup('V-RO-1')!.claim, null);
  assert.is(t.box.pickups()[0]!.failedAttempts, 0);
  await t.box.close();
});

test('a pickup read earlier does not change under the reader when the box moves on', async () => {
  const t = await testBox();
  const { pin } = await readyPickup(t, 'V-RO-2');
  const before = t.box.pickup('V-RO-2')!;
  const sessionId = await authenticate(t, wrongPin(pin));
  assert.ok(sessionId);
  assert.is(t.box.pickup('V-RO-2')!.failedAttempts, 1, 'the box counted the wrong PIN');
  assert.is(before.failedAttempts, 0, 'the copy read before is what it was');
  await t.box.close();
});

test("the runtime's views of committed state refuse every write with a TypeError; the actor's state stays", async () => {
  const t = await testBox();
  await readyPickup(t, 'V-RO-3');
  const registry = t.box.supervisor.view<RegistryCtx>(REGISTRY)!;
  const id = registry.ctx.byReference['V-RO-3']!;
  // The pickup's row is its actor's context.
  const pickup = t.box.supervisor.view<Pickup>(pickupAddress(id))!;
  assert.ok(pickup, `the pickup ${id} is an actor of its own`);
  assert.throws(() => {
    // @ts-expect-error the view is read-only at compile time too
    pickup.ctx.status = 'COLLECTED';
  }, TypeError);
  assert.throws(() => {
    // @ts-expect-error nor any other field of the row
    pickup.ctx.claim = { sessionId: 'intruder', until: Number.MAX_SAFE_INTEGER, factor: 'birthDate' };
  }, TypeError);
  assert.throws(() => {
    // @ts-expect-error a table of the registry's: no delete
    delete registry.ctx.byReference['V-RO-3'];
  }, TypeError);
  const alarms = t.box.supervisor.view<AlarmsCtx>(ALARMS)!;
  assert.throws(() => {
    // @ts-expect-error arrays in a view are read-only: no push
    alarms.ctx.alarms.push({ id: 'x', key: 'x', code: 'ACTOR_FAILED', severity: 'critical', subject: 'x', text: 'x', raisedAt: 0, clearedAt: null, acknowledgedAt: null, acknowledgedBy: null });
  }, TypeError);
  assert.is(t.box.pickup('V-RO-3')!.status, 'READY');
  assert.equal([t.box.supervisor.view<Pickup>(pickupAddress(id))!.ctx.status, t.box.supervisor.view<Pickup>(pickupAddress(id))!.ctx.claim], ['READY', null]);
  assert.is(t.box.supervisor.view<RegistryCtx>(REGISTRY)!.ctx.byReference['V-RO-3'], id, "the registry's reference stays");
  assert.equal(t.box.alarms(), []);
  await t.box.close();
});

test('alarms, the outbox and the failure list are copies', async () => {
  const t = await testBox();
  await readyPickup(t, 'V-RO-4');
  const outbox = t.box.outbox();
  const sent = outbox.sentCount;
  // @ts-expect-error
  outbox.sentCount = -1;
  assert.is(t.box.outbox().sentCount, sent);
  const failures = t.box.failures();
  // @ts-expect-error the list is read-only
  failures.push({ actor: 'x', kind: 'x', code: 'ACTOR_FAILED', at: 0 });
  assert.equal(t.box.failures(), []);
  const alarms = t.box.alarms();
  // @ts-expect-error
  alarms.push(alarms[0]!);
  assert.equal(t.box.alarms(), []);
  await t.box.close();
});

test.run();
