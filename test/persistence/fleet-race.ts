/**
 * Two processes serving one box over one shared store (e.g. an active and a standby panel PC):
 * their registries are separate, so only the store's atomic claims keep them from assigning one
 * compartment twice. Run directly (`node --import tsx test/persistence/fleet-race.ts STORAGE`) it
 * runs the race once and exits 0 when it held: the fleet test runs it so with a single libuv
 * pool thread, where waiting for the other connection's lock must not hold the thread.
 */
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { createBox } from '../../src/box.js';
import { demoCompartments } from '../../src/config.js';
import { BIRTH, MONDAY_10AM, PHONE } from '../helpers.js';

async function twoBoxes(storage: string) {
  const clock = new SimulatedClock(MONDAY_10AM);
  // Separate namespaces for their state, one claim scope: they serve the same compartments.
  const config = { storage, compartments: demoCompartments(4), lockPulseMs: 0, name: 'Holthausen', claimNamespace: 'holthausen' };
  const a = await createBox({ ...config, storageNamespace: 'panel-a' }, { clock });
  const b = await createBox({ ...config, storageNamespace: 'panel-b' }, { clock });
  return { a, b };
}

export async function assignsEachCompartmentOnce(storage: string) {
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
  assert.is(won.length, 4, `all four loads: ${loads.map((l) => (l.status === "rejected" ? `${(l.reason as { code?: string }).code}: ${(l.reason as Error).message}` : "ok")).join(", ")}`);
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


if (process.argv[1] === fileURLToPath(import.meta.url)) {
  assignsEachCompartmentOnce(process.argv[2]!).then(
    () => console.log('race held'),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
