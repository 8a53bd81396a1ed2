import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PICKUP_PREFIX, REGISTRY } from '../../actors/messages.js';
import { demoCompartments } from '../../src/config.js';
import { testBox } from '../helpers.js';
import { committedPickups, registeredReferences } from '../support/committed.js';
import { randomStep, seededPins, type Drive } from '../support/pickup-drive.js';
import { projectionDrift } from '../support/projection.js';
import { seeded } from '../support/random.js';

/**
 * The box's reads of pickups come from a projection fed only by the registry's events. Through
 * many seeded random steps (test/support/pickup-drive.ts), after each one the projection must equal
 * the registry's committed table row for row: a row change that is not published shows up here.
 * DRIFT_SEED=<n> replays one seed; DRIFT_STEPS sets the steps per seed.
 */

const SEEDS = process.env.DRIFT_SEED ? [Number(process.env.DRIFT_SEED)] : [11, 12, 13, 14];
const STEPS = Number(process.env.DRIFT_STEPS ?? 200);

/** What the runs went through, so that a run which never reached a status cannot pass unnoticed. */
const reached = new Set<string>();

for (const seed of SEEDS) {
  test(`the pickups projection equals the committed rows after every step (seed ${seed}, ${STEPS} steps)`, async () => {
    const t = await testBox(
      { compartments: demoCompartments(14), kiosks: ['1', '2'], hoursPreset: 'always', maxFailedAttempts: 3, auditPeriodDays: 1, throttle: { free: 8 } },
      { generatePin: seededPins(seeded(seed * 7_919)) },
    );
    const d: Drive = { t, rand: seeded(seed), registered: [] };
    // Whoever hears a change reads the row it describes: the row event goes out first.
    const heard: string[] = [];
    const unheard = t.box.events.listen((e) => {
      if (e.type !== 'pickup.changed') return;
      const read = t.box.pickup(String(e.reference));
      if (read?.status !== e.status || read?.compartmentId !== e.compartmentId) heard.push(`${String(e.change)} of ${String(e.reference)} heard while it reads ${read?.status}/${read?.compartmentId}`);
    });
    // Not only at rest: once each commit of a pickup (or the registry) has run its effects (the same turn), too.
    const midway: string[] = [];
    let pickupCommits = 0;
    const unwatched = t.box.supervisor.changes.listen(({ address }) => {
      if (address !== REGISTRY && !address.startsWith(PICKUP_PREFIX)) return;
      if (address !== REGISTRY) pickupCommits++;
      queueMicrotask(() => midway.push(...projectionDrift(t.box)));
    });
    try {
      assert.equal(projectionDrift(t.box), [], 'at start');
      for (let i = 0; i < STEPS; i++) {
        const did = await randomStep(d);
        if (process.env.DRIFT_STATS) console.log(`step: ${did}`);
        await t.box.idle();
        const drift = projectionDrift(t.box);
        assert.equal(drift, [], `DRIFT_SEED=${seed}, step ${i + 1} (${did}): the projection drifted from the committed rows`);
        assert.equal(heard, [], `DRIFT_SEED=${seed}, step ${i + 1} (${did}): a change was heard before its row`);
        assert.equal(midway, [], `DRIFT_SEED=${seed}, step ${i + 1} (${did}): the projection differed right after a commit`);
        for (const p of t.box.pickups()) reached.add(p.status);
        if (registeredReferences(t.box) > Object.keys(committedPickups(t.box)).length) reached.add('archived');
      }
      assert.ok(pickupCommits > STEPS / 2, `the projection was compared after the pickups' own commits too (${pickupCommits})`);
    } finally {
      unheard();
      unwatched();
      await t.box.close();
    }
  });
}

if (!process.env.DRIFT_SEED) {
  test('the random steps reached every status, and archived pickups', () => {
    const every = ['REGISTERED', 'LOADING', 'READY', 'RELEASING', 'COLLECTED', 'LOCKED', 'EXPIRED', 'RETURNED', 'CANCELLED', 'archived'];
    assert.equal(every.filter((s) => !reached.has(s)), [], 'states the drift runs never compared');
  });
}

test.run();
