import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { auditHash, openPersistence, type AuditRecord } from '../../src/persistence/keyv-persistence.js';
import { verifyChain } from '../../scripts/verify-audit.js';
import { answerBirthDate, authenticate, passDoor, readyPickup, testBox, type TestBox } from '../helpers.js';

/**
 * Attack: rewrite history (hide a failed attempt, an unlock, a destroyed old ID) in the stored audit
 * log. `npm run audit:verify` recomputes the hash chain with `auditHash` and names the first broken
 * record. The command runs as a child process on a real SQLite file; the other kinds of tampering
 * are checked in process with the same `verifyChain`, on an in-memory store.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

function verify(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/verify-audit.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** One complete pickup with one wrong birth date on the way. */
async function pickup(t: TestBox): Promise<void> {
  const { pin, compartmentId } = await readyPickup(t, 'V-AUD-1');
  const sessionId = await authenticate(t, pin);
  await answerBirthDate(t, sessionId, '13.04.1980');
  await t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: '12.04.1980' });
  await t.box.idle();
  await passDoor(t, compartmentId);
  assert.is(t.box.pickup('V-AUD-1')!.status, 'COLLECTED');
}

test('the command: an intact SQLite log passes (exit 0); one edited record fails it (exit 1, names seq K)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-audit-'));
  const url = `sqlite://${join(dir, 'box.sqlite')}`;
  try {
    const t = await testBox({ storage: url });
    let head: { seq: number; hash: string };
    try {
      await pickup(t);
      head = await t.box.persistence.auditHead();
    } finally {
      await t.box.close();
    }
    assert.ok(head.seq > 10, 'the pickup wrote a history');
    const intact = verify(['--storage', url]);
    assert.is(intact.code, 0, intact.out);
    assert.match(intact.out, `audit log OK: ${head.seq} records, head ${head.hash}`);

    // Someone with access to the file hides the failed birth-date attempt.
    const p = await openPersistence(url);
    let k = 0;
    try {
      for (let seq = 1; seq <= head.seq && !k; seq++) {
        const record = (await p.kv.get<AuditRecord>(`audit:${seq}`))!;
        if (record.action === 'auth.failed') {
          k = seq;
          await p.kv.set(`audit:${seq}`, { ...record, action: 'auth.birthDateAccepted', detail: {} });
        }
      }
    } finally {
      await p.close();
    }
    assert.ok(k > 0, 'the history had a failed attempt to hide');
    const tampered = verify(['--data-dir', dir]);
    assert.is(tampered.code, 1, tampered.out);
    assert.match(tampered.out, `audit log BROKEN at seq ${k}: hash mismatch`);
    // A mistyped location is an error, not an empty intact log.
    assert.is(verify(['--data-dir', join(dir, 'nowhere')]).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every file of `dir` with its content hash and modification time. */
function snapshot(dir: string): Record<string, { sha256: string; mtimeMs: number; size: number }> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => {
        const file = join(dir, name);
        return [name, { sha256: createHash('sha256').update(readFileSync(file)).digest('hex'), mtimeMs: statSync(file).mtimeMs, size: statSync(file).size }];
      }),
  );
}

test('the command opens the store read-only: the files keep their bytes and mtimes, an expiry put on a record does not make it vanish, and tampering is still caught', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-audit-ro-'));
  const url = `sqlite://${join(dir, 'box.sqlite')}`;
  try {
    const t = await testBox({ storage: url });
    try {
      await pickup(t);
    } finally {
      await t.box.close();
    }
    // Someone puts an expiry on the record of the destroyed... here: of the first unlock. keyv
    // deletes an expired value when it reads it, so a verifier reading through keyv would erase it.
    const p = await openPersistence(url);
    let head: { seq: number; hash: string };
    let k = 0;
    try {
      head = await p.auditHead();
      for (let seq = 1; seq <= head.seq && !k; seq++) if ((await p.kv.get<AuditRecord>(`audit:${seq}`))!.action === 'unlock.intent') k = seq;
      await p.kv.set(`audit:${k}`, (await p.kv.get<AuditRecord>(`audit:${k}`))!, 1);
    } finally {
      await p.close();
    }
    assert.ok(k > 0);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the expiry has passed

    const before = snapshot(dir);
    const intact = verify(['--storage', url]);
    assert.is(intact.code, 0, intact.out);
    assert.match(intact.out, `audit log OK: ${head.seq} records`);
    assert.match(intact.out, new RegExp(`carry an expiry .*seq ${k}`), 'the expiry is reported');
    assert.equal(snapshot(dir), before, 'verification wrote nothing: same files, bytes and mtimes');
    const again = verify(['--storage', url]);
    assert.is(again.code, 0, `the record is still there on a second run: ${again.out}`);

    // A record edited in the file: still caught, and still nothing written.
    const q = await openPersistence(url);
    try {
      const record = (await q.kv.get<AuditRecord>('audit:2'))!;
      await q.kv.set('audit:2', { ...record, actor: 'nobody' });
    } finally {
      await q.close();
    }
    const edited = snapshot(dir);
    const tampered = verify(['--storage', url]);
    assert.is(tampered.code, 1, tampered.out);
    assert.match(tampered.out, 'audit log BROKEN at seq 2: hash mismatch');
    assert.equal(snapshot(dir), edited, 'verification of a tampered log wrote nothing either');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A fresh in-memory box with one pickup's history, and a verifier over its store. */
async function history() {
  const t = await testBox();
  await pickup(t);
  const kv = t.box.persistence.kv;
  const head = await t.box.persistence.auditHead();
  const check = async (h = head) => verifyChain((keys) => kv.getMany<AuditRecord>(keys), (await kv.get<{ seq: number; hash: string }>('audit:head')) ?? h);
  return { t, kv, head, check };
}

test('verifyChain: intact, then each kind of tampering is named with its record', async () => {
  const { t, kv, head, check } = await history();
  try {
    assert.equal(await check(), { ok: true, records: head.seq, head: head.hash });

    // Edited, with the hash recomputed so the record itself looks fine: the next record's link breaks.
    const k = 5;
    const original = (await kv.get<AuditRecord>(`audit:${k}`))!;
    const { prevHash, hash: _old, ...entry } = original;
    const forged = { ...entry, actor: 'nobody' };
    await kv.set(`audit:${k}`, { ...forged, prevHash, hash: auditHash(prevHash, forged) });
    let v = await check();
    assert.is(v.ok, false);
    if (!v.ok) assert.equal([v.broken.seq, v.broken.reason, v.records], [k + 1, 'broken link', k]);
    await kv.set(`audit:${k}`, original);

    // Deleted: a gap.
    const third = (await kv.get<AuditRecord>('audit:3'))!;
    await kv.delete('audit:3');
    v = await check();
    if (!v.ok) assert.equal([v.broken.seq, v.broken.reason], [3, 'gap']);
    else assert.unreachable('a deleted record must be found');
    // Renumbered into the hole: still a gap (the record says another seq).
    await kv.set('audit:3', { ...third, seq: 4 });
    v = await check();
    if (!v.ok) assert.equal([v.broken.seq, v.broken.reason], [3, 'gap']);
    else assert.unreachable('a renumbered record must be found');
    await kv.set('audit:3', third);
    assert.is((await check()).ok, true, 'restored');

    // The head rolled back to hide the last records.
    const earlier = (await kv.get<AuditRecord>(`audit:${head.seq - 2}`))!;
    await kv.set('audit:head', { seq: head.seq - 2, hash: earlier.hash });
    v = await check();
    if (!v.ok) assert.equal([v.broken.seq, v.broken.reason], [head.seq - 1, 'record after head']);
    else assert.unreachable('a rolled-back head must be found');
    // A whole rewrite from record K on, every hash recomputed: the chain is consistent again,
    // and only an anchor kept off the box shows it.
    await kv.set('audit:head', head);
    const anchor = { seq: k, hash: original.hash };
    let prev = original.prevHash;
    for (let seq = k; seq <= head.seq; seq++) {
      const r = (await kv.get<AuditRecord>(`audit:${seq}`))!;
      const { prevHash: _p, hash: _h, ...body } = r;
      const rewritten = seq === k ? { ...body, actor: 'nobody' } : body;
      const hash = auditHash(prev, rewritten);
      await kv.set(`audit:${seq}`, { ...rewritten, prevHash: prev, hash });
      prev = hash;
    }
    await kv.set('audit:head', { seq: head.seq, hash: prev });
    assert.is((await check()).ok, true, 'a full rewrite passes the chain check alone');
    v = await verifyChain((keys) => kv.getMany<AuditRecord>(keys), { seq: head.seq, hash: prev }, anchor);
    if (!v.ok) assert.equal([v.broken.seq, v.broken.reason], [k, 'anchor mismatch']);
    else assert.unreachable('the anchor must expose the rewrite');

    // The head pointing at a hash that is not the chain's.
    await kv.set('audit:head', { seq: head.seq, hash: 'f'.repeat(64) });
    v = await check();
    if (!v.ok) assert.is(v.broken.reason, 'head mismatch');
    else assert.unreachable('a forged head must be found');
  } finally {
    await t.box.close();
  }
});

test.run();
