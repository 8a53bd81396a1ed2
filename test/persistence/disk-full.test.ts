import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rejectionCode } from '../domain/assert-code.js';
import { register, testBox, type TestBox } from '../helpers.js';
import { assertKeptAfterRestart } from './after-restart.js';
import { registerUntilRefused } from './register-until-refused.js';

/**
 * A real full disk: the box's SQLite file on a 4 MB tmpfs, filled up by another file until the
 * kernel answers ENOSPC. (test/persistence/storage-failures.test.ts shows the same with SQLite's
 * own page limit, which runs everywhere.) Mounting needs root and the right to mount; where this
 * machine does not give it, the suite is reported as skipped with the reason — also under CI,
 * because it is a property of the machine, not a program CI could install.
 */

function mountTmpfs(): { dir: string; unmount(): void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs (run the tests as root)';
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return `this machine does not allow mounting a tmpfs (${String((error as { stderr?: unknown }).stderr ?? error).trim().slice(0, 120)})`;
  }
  return {
    dir,
    unmount() {
      execFileSync('umount', ['--lazy', dir]); // lazy: a box that failed the test may still hold the file
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const mounted = mountTmpfs();
const test = suite('a real full disk (tmpfs)');

/** Fills the file system with one file until the kernel refuses more; returns its path. */
function fillDisk(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return filler;
}

type LogLine = { level: string; msg: string; fields?: Record<string, unknown> };

const boxOn = (dir: string, logs: LogLine[] = []): Promise<TestBox> =>
  testBox({ storage: `sqlite://${join(dir, 'box.sqlite')}` }, { log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }) });

const TITLE = 'ENOSPC fails commits with STORAGE_UNAVAILABLE, loses nothing acknowledged, and the box resumes once room returns';
async function enospc() {
  const { dir, unmount } = mounted as Exclude<typeof mounted, string>;
  try {
    const logs: LogLine[] = [];
    const t = await boxOn(dir, logs);
    const acknowledged: string[] = [];
    for (let i = 0; i < 3; i++) {
      await register(t.box, `V-DISK-${i}`);
      acknowledged.push(`V-DISK-${i}`);
    }
    const filler = fillDisk(dir);

    const { refused, failedReference, acknowledged: accepted } = await registerUntilRefused(t.box, 'V-DISK', 3, 2_000);
    acknowledged.push(...accepted);
    assert.is(refused, 'STORAGE_UNAVAILABLE', 'the registration the disk could not take gets a coded error');
    assert.is(t.box.pickup(failedReference), undefined, 'the registry did not move past its committed state');
    assert.is(t.box.storageHealthy(), false);
    assert.is(await rejectionCode(register(t.box, 'V-DISK-NEW')), 'STORAGE_UNAVAILABLE', 'new work is refused at once');
    const failure = logs.find((l) => l.level === 'error' && /storage failed/.test(l.msg));
    assert.ok(failure, 'the log says storage failed');
    assert.match(String(failure!.fields?.reason), /SQLITE_FULL|full|SQLITE_IOERR/i, 'and why');

    // Room again: the box finds out by itself.
    rmSync(filler);
    await t.box.advance(1_500);
    assert.is(t.box.storageHealthy(), true, 'healthy again once a commit succeeds');
    await register(t.box, 'V-DISK-AFTER');
    acknowledged.push('V-DISK-AFTER');
    await t.box.close();

    await assertKeptAfterRestart(() => boxOn(dir), acknowledged);
  } finally {
    unmount();
  }
}

if (typeof mounted === 'string') {
  console.log(`SKIP a real full disk (tmpfs): ${mounted}`);
  test.skip(TITLE, enospc);
} else test(TITLE, enospc);
test.run();
