import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Pickup } from '../../actors/pickup.js';
import { AUTH, PICKUP_PREFIX, REGISTRY, pickupAddress } from '../../actors/messages.js';
import type { CommitBatch } from '../../actors/runtime/supervisor.js';
import { demoCompartments } from '../../src/config.js';
import { readyPickup, testBox, wrongPin, type TestBox } from '../helpers.js';
import { collectionInputs, storeWithLivePickups } from '../support/live-pickups.js';

// The cost of a message about a pickup does not grow with the number of live pickups: each pickup
// is an actor of its own, whose commit writes its own record; the auth actor's tables change one
// row without copying them, and a commit writes the rows that changed, found without comparing
// every row (actors/runtime/table.ts). Shown with 50,000 live pickups, as a box that ran for weeks
// restarts with them, and with the system's time for the latency (the figures themselves are in
// `npm run bench -- pickups`).

const LIVE = 50_000;

let t: TestBox;
const commits: CommitBatch[] = [];
const compartments = demoCompartments(24);

test.before(async () => {
  const persistence = await storeWithLivePickups(LIVE);
  // Every commit is seen on its way to the store.
  const commit = persistence.commit.bind(persistence);
  persistence.commit = (batch) => (commits.push(batch), commit(batch));
  t = await testBox({ compartments, throttle: { free: 1_000_000 } }, { persistence });
});
test.after(() => t.box.close());

/** The rows the commits of the actor at `address` wrote since `commits` was emptied. */
const rowsOf = (address: string) =>
  commits.flatMap((b) => b.actors ?? []).filter((w) => w.address === address).flatMap((w) => ('rows' in w && w.rows ? w.rows.changes : []));

test(`with ${LIVE.toLocaleString('en-US')} live pickups a wrong PIN is answered within 25 ms and its commit writes only the rows it changed`, async () => {
  assert.is(t.box.pickups().length, LIVE, 'the live pickups were restored');
  const { pin } = await readyPickup(t, 'V-SCALE-1', { phone: '0152 28817399' });
  const times: number[] = [];
  for (let attempt = 1; attempt <= 4; attempt++) {
    const { sessionId } = await t.box.startSession();
    await t.box.sessionInput(sessionId, { type: 'phone', phone: '0152 28817399' });
    commits.length = 0;
    const t0 = performance.now();
    const answer = await t.box.sessionInput(sessionId, { type: 'pin', pin: wrongPin(pin) });
    times.push(performance.now() - t0);
    assert.is(answer.error, 'AUTH_FAILED');
    // The pickup counts the failure after the panel has its answer.
    await t.box.idle();
    // The number's and the kiosk's throttles in the auth actor, the pickup's counted failure in
    // its own record: nothing else, and nothing of the registry.
    assert.equal(rowsOf(AUTH).map((r) => r.table).sort(), ['kioskThrottles', 'numberThrottles']);
    assert.equal(rowsOf(REGISTRY), []);
    assert.is(commits.flatMap((b) => b.actors ?? []).some((w) => w.address === REGISTRY), false, 'the registry wrote nothing');
    const pickups = commits.flatMap((b) => b.actors ?? []).filter((w) => w.address.startsWith(PICKUP_PREFIX));
    assert.equal(pickups.map((w) => w.address), [pickupAddress(t.box.pickup('V-SCALE-1')!.id)], 'one pickup record written');
    assert.is(('record' in pickups[0]! ? (pickups[0].record.ctx as Pickup) : undefined)?.failedAttempts, attempt);
    await t.box.sessionInput(sessionId, { type: 'cancel' });
    await t.box.idle();
  }
  assert.is(t.box.pickup('V-SCALE-1')!.failedAttempts, 4);
  // Copying and diffing a 50,000-row table took ~45 ms per wrong PIN on a quiet machine, every
  // time. One slow answer of four is allowed: the first wrong PIN of the process compiles its code
  // paths, and a collection of the 50,000-row heap can land on any of them (CI once saw 41 ms for
  // the first, then 0.6, 0.6, 0.4 ms beside another test file).
  const third = [...times].sort((a, b) => a - b)[2]!;
  assert.ok(third < 25, `wrong PINs took ${times.map((x) => x.toFixed(1)).join(', ')} ms`);
});

test(`with ${LIVE.toLocaleString('en-US')} live pickups every panel step of a collection is answered within 25 ms`, async () => {
  // Two citizens collect one after the other; each step's faster time counts, so a collection of
  // the 50,000-row heap landing on one step does not fail it. A step that copied or diffed the
  // table (~45 ms) is slow both times.
  const best: Record<string, number> = {};
  for (const [reference, phone] of [['V-SCALE-2', '0152 28817398'], ['V-SCALE-3', '0152 28817397']] as const) {
    const { pin, compartmentId } = await readyPickup(t, reference, { phone });
    const { sessionId } = await t.box.startSession();
    // The PIN claims the pickup, the birth date finds it by its session, the release by its claim.
    for (const input of collectionInputs(phone, pin)) {
      const t0 = performance.now();
      const answer = await t.box.sessionInput(sessionId, input);
      const ms = performance.now() - t0;
      best[input.type] = Math.min(best[input.type] ?? Infinity, ms);
      assert.is(answer.error ?? null, null, `${input.type}: ${answer.error}`);
    }
    assert.is(t.box.session(sessionId)?.step, 'opening');
    // The panel says "opening" as the release starts; the lock lets go once it is claimed and pulsed.
    await t.box.idle();
    assert.ok(t.hw.locks.openDoor(compartmentId), 'the door opens for the citizen');
    await t.box.idle();
    assert.is(t.box.pickup(reference)!.status, 'COLLECTED');
  }
  assert.equal(Object.keys(best).sort(), ['birthDate', 'factor', 'phone', 'pin']);
  assert.ok(Math.max(...Object.values(best)) < 25, `panel steps took at best ${JSON.stringify(best)}`);
});

test.run();
