import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AllocationCtx } from '../../actors/allocation.js';
import { ALLOCATION, REGISTRY } from '../../actors/messages.js';
import type { RegistryCtx } from '../../actors/registry.js';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { isDomainError } from '../../actors/domain/errors.js';
import { setRow } from '../../actors/runtime/table.js';
import { openPersistence } from '../../src/persistence/keyv-persistence.js';
import { toPreAllocationStore } from '../support/legacy-store.js';
import { answerBirthDate, authenticate, MONDAY_10AM, passDoor, PHONE, readyPickup, register, testBox, withTempStorage, type TestBox } from '../helpers.js';

// Which compartment a pickup goes into is the allocation actor's: it holds the slots (which
// pickup a compartment is given to, whether it can be given at all) and the claims in the shared
// store. The registry keeps no copy. Shown here as staff and citizens would notice it: a
// compartment holding a document, out of service or with a failed lock is never handed to
// another pickup — also after an upgrade from the version where the registry kept the slots, and
// after the allocation actor's own state was lost. On real SQLite files.

const slots = (t: TestBox) => t.box.supervisor.view<AllocationCtx>(ALLOCATION)!.ctx.slots;

/** Registers and loads pickups until no compartment fits; returns the compartments given. */
async function loadUntilFull(t: TestBox, prefix: string): Promise<string[]> {
  const given: string[] = [];
  for (let i = 0; i < 30; i++) {
    await register(t.box, `${prefix}-${i}`, { phone: `+49152288174${String(i).padStart(2, '0')}` });
    try {
      given.push((await t.box.loadPickup(`${prefix}-${i}`, 'staff-anna')).compartmentId);
    } catch (error) {
      assert.ok(isDomainError(error, 'NO_FITTING_COMPARTMENT'), `the box is full, not broken: ${String(error)}`);
      return given;
    }
  }
  throw new Error('the box never filled up');
}

test('a store saved before the allocation actor: the slots are handed over once, a compartment holding a document or out of service is never given out, the PIN still opens', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-alloc-upgrade-', async (storage) => {
    let t = await testBox({ storage }, { clock });
    const { pin, compartmentId: holding } = await readyPickup(t, 'V-AL-1');
    const outOfService = Object.keys(slots(t)).find((id) => id !== holding)!;
    await t.box.setCompartmentService(outOfService, false, 'staff-anna', 'door hinge');
    await t.box.idle();
    await t.box.close();
    await toPreAllocationStore(storage);

    t = await testBox({ storage }, { clock });
    await t.box.idle();
    const adopted = slots(t);
    assert.is(adopted[holding]!.pickupId, t.box.pickup('V-AL-1')!.id, 'the compartment with the document is handed over as given');
    assert.is(adopted[outOfService]!.available, false, 'the compartment out of service is handed over as such');
    const stored = (await t.box.persistence.loadActors()).get(REGISTRY)!.ctx as RegistryCtx;
    assert.is(Object.keys(stored.compartments ?? {}).length, 0, "the registry's slot table left storage");

    const given = await loadUntilFull(t, 'V-AL-F');
    assert.is(given.length, Object.keys(adopted).length - 2, 'every other compartment is given, once');
    assert.is(new Set(given).size, given.length);
    assert.not.ok(given.includes(holding), `${holding} holds a document`);
    assert.not.ok(given.includes(outOfService), `${outOfService} is out of service`);

    const sessionId = await authenticate(t, pin, PHONE);
    await answerBirthDate(t, sessionId);
    await passDoor(t, holding);
    assert.is(t.box.pickup('V-AL-1')!.status, 'COLLECTED');
    await t.box.close();
  });
});

test("an allocation actor whose state was lost: compartments live pickups name are theirs again, and what is out of service is learnt from the compartments", async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-alloc-reset-', async (storage) => {
    let t = await testBox({ storage }, { clock });
    const { compartmentId: ready } = await readyPickup(t, 'V-AR-1');
    // Cancelled with its document still inside: staff have yet to take it out.
    const { compartmentId: cancelled } = await readyPickup(t, 'V-AR-2', { phone: '+4915228817390' });
    await t.box.cancelPickup('V-AR-2', 'staff-anna');
    await t.box.idle();
    const outOfService = Object.keys(slots(t)).find((id) => id !== ready && id !== cancelled)!;
    await t.box.setCompartmentService(outOfService, false, 'staff-anna', 'cleaning');
    await t.box.idle();
    await t.box.close();
    // A maintainer removed the allocation actor's record (say, after it failed for good).
    const persistence = await openPersistence(storage);
    await persistence.commit({ actors: [{ address: ALLOCATION, deleted: true }] });
    await persistence.close();

    t = await testBox({ storage }, { clock });
    await t.box.idle();
    assert.is(slots(t)[ready]!.pickupId, t.box.pickup('V-AR-1')!.id);
    assert.is(slots(t)[cancelled]!.pickupId, t.box.pickup('V-AR-2')!.id, 'a cancelled pickup whose document is inside keeps its compartment');
    assert.is(slots(t)[outOfService]!.available, false);
    const given = await loadUntilFull(t, 'V-AR-F');
    assert.is(given.length, Object.keys(slots(t)).length - 3);
    for (const id of [ready, cancelled, outOfService]) assert.not.ok(given.includes(id), `${id} is not given out`);
    await t.box.close();
  });
});

// The version before the allocation actor freed a slot and gave its claim in the store back after
// the commit; killed in between, its next start gave the claim back. Upgraded at that moment, the
// claim must still be given back, or the compartment is never given to anybody again.
test('upgraded right after an earlier version freed a compartment but before it gave its claim back: the claim goes back, the compartment is given again', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-alloc-upgrade-release-', async (storage) => {
    let t = await testBox({ storage }, { clock });
    const total = Object.keys(slots(t)).length;
    const freed = Object.keys(slots(t)).sort()[0]!;
    await t.box.close();
    await toPreAllocationStore(storage, (ctx) => {
      ctx.compartments[freed] = { ...ctx.compartments[freed]!, pickupId: null, claimedBy: 'V-GONE-1' };
    });
    const store = await openPersistence(storage);
    assert.ok(await store.claimOnce(`Ausgabebox:compartment:${freed}`, 'V-GONE-1'), 'the collected pickup still holds its claim in the store');
    await store.close();

    t = await testBox({ storage }, { clock });
    await t.box.idle();
    const given = await loadUntilFull(t, 'V-AUR-F');
    assert.ok(given.includes(freed), `${freed} is given again`);
    assert.is(given.length, total);
    await t.box.close();
  });
});

// Killed while the version before the allocation actor won a compartment for a load: the pickup
// is LOADING without a compartment, and the claim it may have won is in the store. Its next start
// (the upgrade) loads it over and must give that claim back.
test('upgraded right after an earlier version was killed while winning a compartment for a load: what it may have won is given back', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-alloc-upgrade-abandon-', async (storage) => {
    let t = await testBox({ storage }, { clock });
    const total = Object.keys(slots(t)).length;
    const won = Object.keys(slots(t)).sort()[0]!;
    await register(t.box, 'V-AUA-1');
    await t.box.close();
    await toPreAllocationStore(storage, (ctx) => {
      const id = ctx.byReference['V-AUA-1']!;
      ctx.pickups = setRow(ctx.pickups, id, { ...ctx.pickups[id]!, status: 'LOADING', compartmentId: null, opId: null });
    });
    const store = await openPersistence(storage);
    assert.ok(await store.claimOnce(`Ausgabebox:compartment:${won}`, 'V-AUA-1'));
    await store.close();

    t = await testBox({ storage }, { clock });
    await t.box.idle();
    assert.is(t.box.pickup('V-AUA-1')!.status, 'REGISTERED', 'loaded over');
    const given = await loadUntilFull(t, 'V-AUA-F');
    assert.ok(given.includes(won), `${won} is given to another pickup`);
    assert.is(given.length, total);
    await t.box.close();
  });
});

test('an allocation actor whose state was lost, beside a compartment that failed for good: that compartment is not given', async () => {
  const clock = new SimulatedClock(MONDAY_10AM);
  await withTempStorage('ausgabebox-alloc-reset-failed-', async (storage) => {
    let t = await testBox({ storage }, { clock });
    const total = Object.keys(slots(t)).length;
    const failed = Object.keys(slots(t)).sort()[0]!;
    await t.box.close();
    // The compartment's actor failed for good in an earlier run (restored failed until repaired),
    // and a maintainer removed the allocation actor's record.
    const persistence = await openPersistence(storage);
    const record = (await persistence.loadActors()).get(`compartment/${failed}`)!;
    await persistence.commit({ actors: [{ address: ALLOCATION, deleted: true }, { address: `compartment/${failed}`, record: { ...record, status: 'failed' } }] });
    await persistence.close();

    t = await testBox({ storage }, { clock });
    await t.box.idle();
    assert.is(t.box.supervisor.view(`compartment/${failed}`)!.status, 'failed');
    assert.is(slots(t)[failed]!.available, false, 'its silence is no yes');
    const given = await loadUntilFull(t, 'V-ARF-F');
    assert.not.ok(given.includes(failed), `${failed} failed for good: no load can open it`);
    assert.is(given.length, total - 1);
    await t.box.close();
  });
});

test('a lock that failed to pulse keeps its compartment out of the choice until staff clear the fault', async () => {
  const t = await testBox();
  await register(t.box, 'V-LF-1');
  // Every lock fails as a broken coil or a dead board line would: the load's pulse fails.
  const all = Object.keys(slots(t));
  for (const id of all) t.hw.locks.failLock(id, 'I2C_NACK');
  const broken = (await t.box.loadPickup('V-LF-1', 'staff-anna')).compartmentId;
  await t.box.idle();
  assert.is(t.box.pickup('V-LF-1')!.status, 'REGISTERED', 'the load did not happen');
  assert.is(slots(t)[broken]!.available, false);
  // The other locks work again; loaded again, the pickup gets another compartment, not the broken one.
  for (const id of all) t.hw.locks.failLock(id, null);
  const other = (await t.box.loadPickup('V-LF-1', 'staff-anna')).compartmentId;
  assert.is.not(other, broken);
  await t.box.idle();
  // Cleared by staff: it can be given again.
  await t.box.clearCompartmentFault(broken, 'staff-anna');
  await t.box.idle();
  assert.is(slots(t)[broken]!.available, true);
  await t.box.close();
});

test.run();
