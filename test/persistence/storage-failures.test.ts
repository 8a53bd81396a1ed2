import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openPersistence, storageError } from '../../src/persistence/keyv-persistence.js';
import { createServer } from '../../src/server/index.js';
import { authenticate, answerBirthDate, lastPin, readyPickup, register, testBox, type TestBox } from '../helpers.js';
import { rejectionCode } from '../domain/assert-code.js';
import { assertKeptAfterRestart } from './after-restart.js';
import { registerUntilRefused } from './register-until-refused.js';

/**
 * Storage failures are loud and lose nothing acknowledged: a database that cannot grow (SQLite's
 * own SQLITE_FULL, from `PRAGMA max_page_count`, the same error a full disk gives) fails commits
 * with STORAGE_UNAVAILABLE, the box refuses new work, reports itself unhealthy and logs why, and
 * resumes by itself once there is room. A damaged database is refused at start.
 */

const TOKENS = { kiosk: 'kiosk-token-0123456789ab', staff: { anna: 'staff-token-0123456789ab' }, integration: 'integration-token-012345', monitor: 'monitor-token-0123456789' };
const REGISTER = `mutation($input: RegisterPickupInput!) { registerPickup(input: $input) { reference status } }`;


type LogLine = { level: string; msg: string; fields?: Record<string, unknown> };

async function sqliteBox(dir: string, logs: LogLine[] = []): Promise<TestBox> {
  return testBox({ storage: `sqlite://${join(dir, 'box.sqlite')}` }, { log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }) });
}

/** Lets the database grow no further: the next commit that needs a page fails with SQLITE_FULL. */
async function fillUp(t: TestBox): Promise<void> {
  const query = t.box.persistence.query!;
  const [{ page_count }] = (await query('PRAGMA page_count')) as [{ page_count: number }];
  await query(`PRAGMA max_page_count = ${page_count}`);
}

async function makeRoom(t: TestBox): Promise<void> {
  await t.box.persistence.query!('PRAGMA max_page_count = 1073741823');
}

test('a full disk fails commits with STORAGE_UNAVAILABLE, refuses new work, and loses nothing acknowledged once room returns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-full-'));
  const logs: LogLine[] = [];
  const t = await sqliteBox(dir, logs);
  const acknowledged: string[] = [];
  for (let i = 0; i < 3; i++) {
    await register(t.box, `V-FULL-${i}`);
    acknowledged.push(`V-FULL-${i}`);
  }
  await fillUp(t);

  // Registrations go on until the store has no page left for one.
  const { refused, failedReference, acknowledged: accepted } = await registerUntilRefused(t.box, 'V-FULL', 3, 500);
  acknowledged.push(...accepted);
  assert.is(refused, 'STORAGE_UNAVAILABLE', 'the request that could not be committed gets a coded error');
  assert.is(t.box.pickup(failedReference), undefined, 'the registry did not move past its committed state');
  assert.equal(t.box.pickups().map((p) => p.reference).sort(), [...acknowledged].sort(), 'in memory: exactly what was acknowledged');
  assert.is(t.box.storageHealthy(), false, 'health says storage is failing');
  assert.is(await rejectionCode(register(t.box, 'V-FULL-NEW')), 'STORAGE_UNAVAILABLE', 'new work is refused at once while storage fails');
  const failure = logs.find((l) => l.level === 'error' && /storage failed/.test(l.msg));
  assert.ok(failure, 'the log says storage failed');
  assert.match(String(failure!.fields?.reason), /SQLITE_FULL|full/i, 'and why');

  // Room again: the box finds out by itself and takes work.
  await makeRoom(t);
  await t.box.advance(1_500);
  assert.is(t.box.storageHealthy(), true, 'healthy again once a commit succeeds');
  assert.ok(logs.some((l) => l.level === 'info' && /storage takes writes again/.test(l.msg)), 'the log says storage is back');
  await register(t.box, 'V-FULL-AFTER');
  acknowledged.push('V-FULL-AFTER');
  await t.box.close();

  // A restart finds every acknowledged pickup and an intact audit chain.
  await assertKeptAfterRestart(() => sqliteBox(dir), acknowledged);
  rmSync(dir, { recursive: true, force: true });
});

test('while storage fails /health answers 503 naming the storage failure and GraphQL answers STORAGE_UNAVAILABLE; both recover', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-health-'));
  const t = await sqliteBox(dir);
  const server = createServer(t.box, { tokens: TOKENS, engine: 'yoga', logError: () => {} });
  const { url } = await server.listen(0, '127.0.0.1');
  const base = url.replace(/\/graphql$/, '');
  const gql = async (reference: string) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.integration}` },
      body: JSON.stringify({ query: REGISTER, variables: { input: { reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: '1980-04-12' } } }),
    });
    return (await res.json()) as { data?: { registerPickup?: { status: string } } | null; errors?: Array<{ extensions?: { code?: string } }> };
  };
  const health = async () => {
    const res = await fetch(`${base}/health`);
    return { status: res.status, doc: (await res.json()) as { status: string; ok: boolean; checks: Record<string, Array<{ status: string; output?: string }>> } };
  };
  try {
    assert.is((await health()).status, 200);
    assert.is((await gql('V-H-0')).data?.registerPickup?.status, 'REGISTERED');

    await fillUp(t);
    let code: string | undefined;
    for (let i = 1; i < 500 && code === undefined; i++) code = (await gql(`V-H-${i}`)).errors?.[0]?.extensions?.code;
    assert.is(code, 'STORAGE_UNAVAILABLE');
    const down = await health();
    assert.is(down.status, 503, '/health fails');
    assert.is(down.doc.status, 'fail');
    assert.is(down.doc.ok, false);
    assert.is(down.doc.checks['storage:responseTime']![0]!.status, 'fail', 'the storage check fails, though reads still answer');
    assert.match(down.doc.checks['storage:responseTime']![0]!.output ?? '', /commits fail since .*full/i);
    assert.is((await fetch(`${base}/health/ready`)).status, 503, 'not ready for traffic');

    await makeRoom(t);
    await t.box.advance(1_500);
    const up = await health();
    assert.is(up.status, 200, '/health passes again');
    assert.is(up.doc.checks['storage:responseTime']![0]!.status === 'fail', false);
    assert.is((await gql('V-H-AFTER')).data?.registerPickup?.status, 'REGISTERED');
  } finally {
    await server.close();
    await t.box.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a door closed while storage fails is not lost: the pickup goes READY once room returns, with one PIN, and the PIN opens', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-door-'));
  const t = await sqliteBox(dir);
  await register(t.box, 'V-DOOR-1');
  const { compartmentId } = await t.box.loadPickup('V-DOOR-1', 'staff-anna');
  await t.box.idle();
  assert.ok(t.hw.locks.openDoor(compartmentId));
  await t.box.idle();
  // Fill the store, then use up its last pages so the next commit certainly fails.
  await fillUp(t);
  for (let i = 0; i < 500 && t.box.storageHealthy(); i++) await rejectionCode(register(t.box, `V-FILL-${i}`));
  assert.is(t.box.storageHealthy(), false);

  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
  assert.is(t.box.pickup('V-DOOR-1')!.status, 'LOADING', 'nothing moves on while the close cannot be committed');
  assert.is(t.hw.sms.to('+4915228817386').length, 0, 'no PIN is sent for a state that is not durable');

  await makeRoom(t);
  await t.box.advance(1_500);
  assert.is(t.box.pickup('V-DOOR-1')!.status, 'READY', 'the compartment read its door again and the pickup went READY');
  assert.is(t.hw.sms.to('+4915228817386').length, 1, 'one PIN');
  const pin = lastPin(t);
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId);
  assert.is(t.box.session(sessionId)?.step, 'opening', 'all three factors passed');
  assert.ok(['unlocking', 'open'].includes(t.box.compartment(compartmentId)!.state), 'the compartment is unlocked for the citizen');
  await t.box.close();

  const again = await sqliteBox(dir);
  assert.ok(['RELEASING', 'COLLECTED', 'READY'].includes(again.box.pickup('V-DOOR-1')?.status ?? ''), 'the pickup survived the restart');
  await again.box.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a claim the store cannot answer refuses the request with STORAGE_UNAVAILABLE, leaves nothing stuck and never fails the registry', async () => {
  const persistence = await openPersistence('memory:');
  let failing = true;
  const claimOnce = persistence.claimOnce.bind(persistence);
  // The fault under the claims, as a store that refuses writes gives it.
  persistence.claimOnce = (key, owner) => (failing ? Promise.reject(storageError(new Error('SQLITE_IOERR: disk I/O error'))) : claimOnce(key, owner));
  const t = await testBox({}, { persistence });
  try {
    await register(t.box, 'V-CLAIM-1');
    // More refusals than the restart intensity (5): a storage failure is not the registry's crash.
    for (let i = 0; i < 7; i++) {
      assert.is(await rejectionCode(t.box.loadPickup('V-CLAIM-1', 'staff-anna')), 'STORAGE_UNAVAILABLE', `load ${i + 1} refused with the code`);
      assert.is(t.box.pickup('V-CLAIM-1')!.status, 'REGISTERED', 'not left LOADING');
      await t.box.advance(1_500); // the probe commit succeeds: storage is healthy again
    }
    assert.equal(t.box.failures(), [], 'no actor failed');
    failing = false;
    const { pin, compartmentId } = await readyPickup(t, 'V-CLAIM-2');
    assert.ok(compartmentId);

    // The PIN's single-use claim cannot be written: the session ends with the code, the PIN stays good.
    failing = true;
    let sessionId = await authenticate(t, pin);
    await answerBirthDate(t, sessionId);
    assert.is(t.box.session(sessionId)?.error, 'STORAGE_UNAVAILABLE');
    assert.is(t.box.pickup('V-CLAIM-2')!.status, 'READY', 'not left RELEASING');
    assert.not.ok((await t.box.audit(1, 10_000)).some((a) => a.action === 'pin.reuseRefused'), 'not taken for a reused PIN');
    failing = false;
    await t.box.advance(1_500);
    sessionId = await authenticate(t, pin);
    await answerBirthDate(t, sessionId);
    assert.ok(['unlocking', 'open'].includes(t.box.compartment(compartmentId)!.state), 'the same PIN opens once storage is back');
  } finally {
    await t.box.close();
  }
});

test('a claim that cannot be given back while storage fails is given back once it returns: the compartment is not lost', async () => {
  const persistence = await openPersistence('memory:');
  let failing = false;
  let refusedReleases = 0;
  const release = persistence.release.bind(persistence);
  persistence.release = (key, owner) => {
    if (!failing) return release(key, owner);
    refusedReleases++;
    return Promise.reject(storageError(new Error('SQLITE_IOERR: disk I/O error')));
  };
  const t = await testBox({ compartments: [{ id: 'A01', size: 'M', accessible: false }] }, { persistence });
  try {
    const { pin, compartmentId } = await readyPickup(t, 'V-REL-1');
    failing = true;
    const sessionId = await authenticate(t, pin);
    await answerBirthDate(t, sessionId);
    assert.ok(t.hw.locks.openDoor(compartmentId));
    await t.box.idle();
    t.hw.locks.closeDoor(compartmentId);
    await t.box.idle();
    assert.is(t.box.pickup('V-REL-1')?.status ?? (await t.box.pickupOrArchived('V-REL-1'))?.status, 'COLLECTED');
    for (let i = 0; i < 3; i++) await t.box.advance(1_500);
    assert.ok(refusedReleases >= 2, `the release was tried again while storage failed (${refusedReleases} times)`);
    failing = false;
    for (let i = 0; i < 3; i++) await t.box.advance(1_500);
    assert.is(t.box.storageHealthy(), true);
    await register(t.box, 'V-REL-2');
    assert.is((await t.box.loadPickup('V-REL-2', 'staff-anna')).compartmentId, 'A01', 'the only compartment is assignable again');
    assert.equal(t.box.failures(), []);
  } finally {
    await t.box.close();
  }
});

test('a damaged database is refused at start with STORAGE_DAMAGED and the way to recover', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-damaged-'));
  const file = join(dir, 'box.sqlite');
  const t = await testBox({ storage: `sqlite://${file}` });
  for (let i = 0; i < 40; i++) await register(t.box, `V-DMG-${i}`);
  await t.box.close();
  // Garbage over the pages after the first (the schema page stays readable).
  const size = statSync(file).size;
  assert.ok(size > 8_192, 'the database has pages to damage');
  const fd = openSync(file, 'r+');
  const junk = Buffer.alloc(size - 4_096, 0x5a);
  writeSync(fd, junk, 0, junk.length, 4_096);
  closeSync(fd);
  let error: unknown = null;
  try {
    await openPersistence(`sqlite://${file}`);
  } catch (e) {
    error = e;
  }
  assert.ok(error, 'the damaged file is not opened');
  assert.is((error as { code?: string }).code, 'STORAGE_DAMAGED');
  assert.match(String((error as Error).message), /\.recover/);
  rmSync(dir, { recursive: true, force: true });
});

test.run();
