import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import type { CommitBatch } from '../../actors/runtime/supervisor.js';
import { writesPickup } from '../support/committed.js';
import { createBox, type SimulatedHardware } from '../../src/box.js';
import { demoCompartments, type BoxConfigInput } from '../../src/config.js';
import { BIRTH, MONDAY_10AM, PHONE, readyPickup, register, type TestBox } from '../helpers.js';
import { killableStore } from '../support/killable-store.js';
import { randomStep, seededPins, type Drive } from '../support/pickup-drive.js';
import { projectionDrift } from '../support/projection.js';
import { seeded } from '../support/random.js';

/**
 * The pickups projection is built once at start from the registry as recovered, then kept by the
 * registry's events, recovery's own changes among them. After a restart on the same SQLite file —
 * a clean one, or the process killed right after a chosen commit — it equals the registry again.
 */

const CONFIG: BoxConfigInput = {
  compartments: demoCompartments(14),
  kiosks: ['1', '2'],
  hoursPreset: 'always',
  maxFailedAttempts: 3,
  auditPeriodDays: 1,
  throttle: { free: 8 },
  lockPulseMs: 0,
  pinKey: 'projection-restart-key-0123456789abcdef',
};

interface Started {
  t: TestBox;
  /** resolves when the process "dies" (the commit `killAfter` matched is durable, nothing after it) */
  killed: Promise<void>;
  isKilled: () => boolean;
}

/** A box on `file`; with `killAfter`, its storage dies right after the first commit that matches. */
async function start(file: string, clock: SimulatedClock, hw: SimulatedHardware | null, pins: () => string, killAfter?: (batch: CommitBatch) => boolean): Promise<Started> {
  const store = await killableStore(`sqlite://${file}`, killAfter);
  const created = await createBox({ ...CONFIG, storage: `sqlite://${file}` }, { clock, persistence: store.persistence, generatePin: pins, ...(hw ? { hardware: hw } : {}) });
  store.attach(created);
  const idle = created.idle;
  created.idle = () => Promise.race([idle(), store.killed]);
  return { t: { box: created, clock, hw: created.hardware as SimulatedHardware }, killed: store.killed, isKilled: store.isKilled };
}


function tempFile(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-projection-'));
  return { dir, file: join(dir, 'box.sqlite') };
}

test('random days with clean restarts on one SQLite file: the projection equals the registry before and after each', async () => {
  const { dir, file } = tempFile();
  const seed = 21;
  const clock = new SimulatedClock(MONDAY_10AM);
  const pins = seededPins(seeded(seed * 7_919));
  let { t } = await start(file, clock, null, pins);
  const d: Drive = { t, rand: seeded(seed), registered: [] };
  try {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 40; i++) {
        const did = await randomStep(d);
        await t.box.idle();
        assert.equal(projectionDrift(t.box), [], `round ${round}, step ${i + 1} (${did})`);
      }
      const live = t.box.pickups().length;
      assert.ok(live > 0, 'there are pickups to carry over the restart');
      await t.box.close();
      ({ t } = await start(file, clock, d.t.hw, pins));
      d.t = t;
      assert.equal(projectionDrift(t.box), [], `round ${round}: as the box comes up, before recovery's work is done`);
      assert.is(t.box.pickups().length, live, 'every pickup came back');
      await t.box.idle();
      assert.equal(projectionDrift(t.box), [], `round ${round}: once recovery is done`);
    }
  } finally {
    await t.box.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('killed right after a pickup went RELEASING: after the restart recovery puts it back to READY, and the projection shows it', async () => {
  const { dir, file } = tempFile();
  const clock = new SimulatedClock(MONDAY_10AM);
  const pins = seededPins(seeded(5));
  const before = await start(file, clock, null, pins, (b) => writesPickup(b, (p) => p.status === 'RELEASING'));
  const { pin } = await readyPickup(before.t, 'W-1');
  await register(before.t.box, 'W-2');
  const { sessionId } = await before.t.box.startSession();
  for (const input of [{ type: 'phone', phone: PHONE }, { type: 'pin', pin }, { type: 'factor', factor: 'birthDate' }, { type: 'birthDate', birthDate: BIRTH }] as const) {
    await Promise.race([before.t.box.sessionInput(sessionId, input).catch(() => undefined), before.killed]);
    if (before.isKilled()) break;
  }
  assert.ok(before.isKilled(), 'the box died in the window');
  assert.is(before.t.box.pickup('W-1')!.status, 'READY', 'the dead box never published the release it committed');

  const { t } = await start(file, clock, before.t.hw, pins);
  try {
    assert.is(t.box.pickup('W-1')!.status, 'RELEASING', 'at start the projection is the registry as recovered from the file');
    assert.equal(projectionDrift(t.box), []);
    await t.box.idle();
    assert.is(t.box.pickup('W-1')!.status, 'READY', "recovery's change reached the projection");
    assert.is(t.box.pickup('W-1')!.claim, null);
    assert.equal(t.box.counts().pickupsByStatus, { READY: 1, REGISTERED: 1 });
    assert.equal(projectionDrift(t.box), []);
  } finally {
    await t.box.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('killed after a purge, before the archive was written: after the restart the pickup is archived and leaves the projection', async () => {
  const { dir, file } = tempFile();
  const clock = new SimulatedClock(MONDAY_10AM);
  const pins = seededPins(seeded(6));
  const before = await start(file, clock, null, pins, (b) => writesPickup(b, (p) => p.personalDataDeleted === true));
  await register(before.t.box, 'W-1');
  await register(before.t.box, 'W-2');
  await before.t.box.cancelPickup('W-1', 'integration');
  await Promise.race([before.t.box.advance(2 * 86_400_000), before.killed]);
  assert.ok(before.isKilled(), 'the box died in the window');

  const { t } = await start(file, clock, before.t.hw, pins);
  try {
    assert.is(t.box.pickup('W-1')!.personalDataDeleted, true, 'purged, not yet archived, as the file has it');
    assert.equal(projectionDrift(t.box), []);
    await t.box.idle();
    assert.is(t.box.pickup('W-1'), undefined, 'archived at recovery: it left the projection');
    assert.is((await t.box.pickupOrArchived('W-1'))?.status, 'CANCELLED', 'staff still find it in the archive');
    assert.equal(t.box.pickups().map((p) => p.reference), ['W-2']);
    assert.equal(t.box.counts().pickupsByStatus, { REGISTERED: 1 });
    assert.equal(projectionDrift(t.box), []);
  } finally {
    await t.box.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
