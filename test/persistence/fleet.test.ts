import { spawnSync } from 'node:child_process';
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
import { assignsEachCompartmentOnce } from './fleet-race.js';
import { startRedis } from './redis-server.js';

// Two processes serving one box over one shared store never assign one compartment twice
// (fleet-race.ts). Shown on SQLite (one file, two connections) and on a real redis-server.

const onSqlite = suite('fleet on SQLite');
const onRedis = suiteNeeding('fleet on Redis', [REDIS]);

onSqlite('on one SQLite file, two processes never assign the same compartment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-fleet-'));
  await assignsEachCompartmentOnce(`sqlite://${join(dir, 'box.sqlite')}`);
  rmSync(dir, { recursive: true, force: true });
});

onSqlite('two connections waiting for each other never take every pool thread (one libuv thread)', () => {
  // node-sqlite3 runs statements on libuv's pool; SQLite's busy handler sleeps on that thread. With
  // a long busy timeout the waiting connection took the pool and the lock holder could not COMMIT.
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-fleet-'));
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fleet-race.ts'), `sqlite://${join(dir, 'box.sqlite')}`], {
      env: { ...process.env, UV_THREADPOOL_SIZE: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.is(run.status, 0, run.stderr);
    assert.match(run.stdout, 'race held');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
