import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { register, testBox, type TestBox } from '../helpers.js';
import { assertKeptAfterRestart } from './after-restart.js';

/**
 * An ended pickup leaves the registry for the archive once its personal data is deleted. When the
 * archive write finds no room (SQLITE_FULL on a real SQLite file that cannot grow), the supervisor
 * parks it and writes it again once storage takes writes: the record is archived without a restart.
 */

const DAY = 86_400_000;

async function sqliteBox(dir: string): Promise<TestBox> {
  return testBox({ storage: `sqlite://${join(dir, 'box.sqlite')}`, auditPeriodDays: 1 });
}

test('an archive write that finds the disk full is done again once room returns, without a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-archive-'));
  const t = await sqliteBox(dir);
  const query = t.box.persistence.query!;
  try {
    await register(t.box, 'V-ARC-1');
    await register(t.box, 'V-ARC-2');
    await t.box.cancelPickup('V-ARC-1', 'staff-anna');
    await t.box.advance(DAY - 60_000);
    assert.ok(t.box.pickup('V-ARC-1'), 'ended, still live until its personal data is deleted');

    // The archive write is the one write that needs more room than the database has: a row of
    // 1 MB lands with it (a trigger), so it fails with SQLite's own SQLITE_FULL once the file
    // cannot grow, while the box's commits still fit into the pages it has.
    await query('CREATE TABLE ballast (data BLOB)');
    await query(`CREATE TRIGGER archive_needs_room BEFORE INSERT ON keyv WHEN NEW.key LIKE '%archive:%' BEGIN INSERT INTO ballast VALUES (zeroblob(1048576)); END`);
    const [{ page_count }] = (await query('PRAGMA page_count')) as [{ page_count: number }];
    await query(`PRAGMA max_page_count = ${page_count + 8}`);

    await t.box.advance(60_500); // the personal data is deleted; the archive write fails (the probe is 1 s away)
    const purged = t.box.pickup('V-ARC-1');
    assert.ok(purged, 'not archived: still in the registry');
    assert.is(purged!.personalDataDeleted, true, 'the purge itself was committed');
    assert.is(await t.box.persistence.kv.get('archive:V-ARC-1'), undefined, 'no archive record yet');
    assert.is(t.box.storageHealthy(), false, 'storage is reported failing');
    assert.equal(t.box.failures(), [], 'not the registry\'s crash');

    await query('PRAGMA max_page_count = 1073741823');
    await t.box.advance(1_500);
    const archived = (await t.box.persistence.kv.get('archive:V-ARC-1')) as { reference: string; status: string; phone: unknown } | undefined;
    assert.ok(archived, 'archived once room returned, without a restart');
    assert.is(archived!.reference, 'V-ARC-1');
    assert.is(archived!.status, 'CANCELLED');
    assert.is(archived!.phone, null, 'without personal data');
    assert.is(t.box.pickup('V-ARC-1'), undefined, 'and it left the registry');
    assert.is((await t.box.pickupOrArchived('V-ARC-1'))?.status, 'CANCELLED', 'staff still find it');
    assert.is(t.box.storageHealthy(), true);
    assert.is(t.box.pickup('V-ARC-2')?.status, 'REGISTERED', 'the other pickup is untouched');
    await t.box.close();
    await assertKeptAfterRestart(() => sqliteBox(dir), ['V-ARC-2']);
  } finally {
    await t.box.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
