import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { createBox } from '../../src/box.js';
import { demoCompartments } from '../../src/config.js';
import { BIRTH, MONDAY_10AM, PHONE } from '../helpers.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { startRedis } from './redis-server.js';

// Two processes serving one box over one shared store (e.g. an active and a standby panel PC):
// their registries are separate, so only the store's atomic claims keep them from assigning one
// compartment twice. Shown on SQLite (one file, two connections) and on a real redis-server.

async function twoBoxes(storage: string) {
  const clock = new SimulatedClock(MONDAY_10AM);
  // Separate namespaces for their state, one claim scope: they serve the same compartments.
  const config = { storage, compartments: demoCompartments(4), lockPulseMs: 0, name: 'Holthausen', claimNamespace: 'holthausen' };
  const a = await createBox({ ...config, storageNamespace: 'panel-a' }, { clock });
  const b = await createBox({ ...config, storageNamespace: 'panel-b' }, { clock });
  return { a, b };
}

async function assignsEachCompartmentOnce(storage: string) {
  const { a, b } = await twoBoxes(storage);
  for (const [box, ref] of [
    [a, 'V-A-1'],
    [b, 'V-B-1'],
    [a, 'V-A-2'],
    [b, 'V-B-2'],
  ] as const) {
    await box.registerPickup({ reference: ref, documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH });
  }
  // Both load at the same time: four loads race for four compartments.
  const loads = await Promise.allSettled([a.loadPickup('V-A-1', 'anna'), b.loadPickup('V-B-1', 'ben'), a.loadPickup('V-A-2', 'anna'), b.loadPickup('V-B-2', 'ben')]);
  const won = loads.flatMap((l) => (l.status === 'fulfilled' ? [l.value.compartmentId] : []));
  assert.is(won.length, 4);
  assert.is(new Set(won).size, 4, `no compartment twice: ${won.join(', ')}`);
  // A fifth pickup finds no compartment, in either process.
  await b.registerPickup({ reference: 'V-B-3', documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH });
  try {
    await b.loadPickup('V-B-3', 'ben');
    assert.unreachable('a fifth compartment was assigned');
  } catch (error) {
    assert.is((error as { code: string }).code, 'NO_FITTING_COMPARTMENT');
  }
  await a.close();
  await b.close();
}

const onSqlite = suite('fleet on SQLite');
const onRedis = suiteNeeding('fleet on Redis', [REDIS]);

onSqlite('on one SQLite file, two processes never assign the same compartment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-fleet-'));
  await assignsEachCompartmentOnce(`sqlite://${join(dir, 'box.sqlite')}`);
  rmSync(dir, { recursive: true, force: true });
});

onRedis('on one Redis server, two processes never assign the same compartment', async () => {
  const redis = await startRedis();
  try {
    await assignsEachCompartmentOnce(redis.url);
  } finally {
    await redis.stop();
  }
});

onRedis('a PIN opens once: a second release for the same PIN is refused by the store', async () => {
  const redis = await startRedis();
  try {
    const clock = new SimulatedClock(MONDAY_10AM);
    const box = await createBox({ storage: redis.url, compartments: demoCompartments(4), lockPulseMs: 0 }, { clock });
    // Another process already used this pickup's first PIN.
    assert.ok(await box.persistence.claimOnce('pin:V-PIN-1:1', 'session-elsewhere'));
    await box.registerPickup({ reference: 'V-PIN-1', documentKind: 'ID_CARD', phone: PHONE, birthDate: BIRTH });
    const { compartmentId } = await box.loadPickup('V-PIN-1', 'anna');
    await box.idle();
    box.world!.openDoor(compartmentId);
    await box.idle();
    box.world!.closeDoor(compartmentId);
    await box.idle();
    const pin = /PIN: (\d{6})/.exec((box.hardware as any).sms.sent.at(-1).text)![1]!;
    const { sessionId } = await box.startSession();
    await box.idle();
    for (const input of [
      { type: 'phone', phone: PHONE },
      { type: 'pin', pin },
      { type: 'birthDate', birthDate: BIRTH },
    ] as const) {
      await box.sessionInput(sessionId, input);
      await box.idle();
    }
    assert.is(box.session(sessionId)!.error, 'AUTH_FAILED');
    assert.ok(box.world!.latched(compartmentId), 'nothing opened');
    assert.ok((await box.audit()).some((a) => a.action === 'pin.reuseRefused'));
    await box.close();
  } finally {
    await redis.stop();
  }
});

onSqlite.run();
onRedis.run();
