import { rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { MONDAY_10AM, readyPickup, tempStorage, testBox } from '../helpers.js';
import { damagePickupRow } from '../support/damaged-row.js';

// After a restart each compartment tells the pickup it holds, and each pickup recorded in a
// compartment asks it what it holds; a disagreement is named to staff. On a real SQLite file: a
// box stopped with a pickup READY in its compartment, its stored row then changed.

async function restarted(patch: Record<string, unknown> | null) {
  const { dir, storage } = tempStorage();
  const clock = new SimulatedClock(MONDAY_10AM);
  const before = await testBox({ storage }, { clock });
  const { compartmentId } = await readyPickup(before, 'V-OCC-1');
  const id = before.box.pickup('V-OCC-1')!.id;
  await before.box.close();
  if (patch) await damagePickupRow(storage, id, patch);
  const t = await testBox({ storage }, { clock });
  await t.box.idle();
  return { dir, t, compartmentId };
}

test('a compartment that still holds a pickup recorded as collected calls staff after the restart', async () => {
  const { dir, t, compartmentId } = await restarted({ status: 'COLLECTED', compartmentId: null, endedAt: MONDAY_10AM });
  try {
    const alarm = t.box.alarms(true).find((a) => a.code === 'OCCUPANCY_MISMATCH');
    assert.ok(alarm, 'OCCUPANCY_MISMATCH raised');
    assert.is(alarm.subject, compartmentId);
    assert.match(alarm.text, `Compartment ${compartmentId} reports it holds V-OCC-1, the pickups record pickup V-OCC-1 (COLLECTED)`);
  } finally {
    await t.box.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pickup recorded in an empty compartment, while the compartment it is in holds it: both are named to staff after the restart', async () => {
  const { dir, t, compartmentId } = await restarted({ compartmentId: 'A02' });
  try {
    assert.is.not(compartmentId, 'A02');
    const texts = t.box.alarms(true).filter((a) => a.code === 'OCCUPANCY_MISMATCH').map((a) => a.text);
    assert.ok(texts.some((x) => x.startsWith('Compartment A02 reports it holds nothing, the pickups record pickup V-OCC-1 (READY) in it')), texts.join(' | '));
    assert.ok(texts.some((x) => x.startsWith(`Compartment ${compartmentId} reports it holds V-OCC-1, the pickups record pickup V-OCC-1 (READY) in A02`)), texts.join(' | '));
  } finally {
    await t.box.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a restart where compartments and pickups agree raises nothing', async () => {
  const { dir, t } = await restarted(null);
  try {
    assert.equal(t.box.alarms(true).filter((a) => a.code === 'OCCUPANCY_MISMATCH'), []);
    assert.is(t.box.pickup('V-OCC-1')!.status, 'READY');
  } finally {
    await t.box.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
