// Verifies the audit log's hash chain: every record from 1 to the head is present, links to the
// previous record's hash, and hashes to what it says. Exit 0 when intact, 1 at the first broken
// record (named with its sequence number and reason), 2 on a usage or storage error.
//
//   npm run audit:verify -- [--data-dir DIR | --storage URL] [--namespace NS] [--anchor SEQ:HASH]
//
// A chain alone cannot show a rewrite from record K to the head by someone who can write the
// store. `npm start` logs the head as an anchor (`audit anchor SEQ:HASH`) at start and stop; with
// logs kept off the box, `--anchor` checks that the record SEQ still has that hash.
// Default: --data-dir data, i.e. sqlite://data/box.sqlite, namespace "box" (as `npm start`).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditHash, openPersistence, type AuditRecord } from '../src/persistence/keyv-persistence.js';

const GENESIS = '0'.repeat(64);
const BATCH = 500;

export type Break = { seq: number; reason: 'gap' | 'broken link' | 'hash mismatch' | 'head mismatch' | 'record after head' | 'anchor mismatch'; detail: string };
export type Verdict = { ok: true; records: number; head: string } | { ok: false; records: number; broken: Break };

/** Walks the chain through `get` (the keyv store) up to `head`; stops at the first break. */
export async function verifyChain(
  getMany: (keys: string[]) => Promise<Array<AuditRecord | undefined>>,
  head: { seq: number; hash: string },
  anchor?: { seq: number; hash: string },
): Promise<Verdict> {
  let prev = GENESIS;
  let checked = 0;
  for (let from = 1; from <= head.seq; from += BATCH) {
    const to = Math.min(head.seq, from + BATCH - 1);
    const keys: string[] = [];
    for (let s = from; s <= to; s++) keys.push(`audit:${s}`);
    const records = await getMany(keys);
    for (let i = 0; i < keys.length; i++) {
      const seq = from + i;
      const record = records[i];
      if (!record || typeof record !== 'object') return { ok: false, records: checked, broken: { seq, reason: 'gap', detail: 'the record is missing' } };
      if (record.seq !== seq) return { ok: false, records: checked, broken: { seq, reason: 'gap', detail: `the record under this key says seq ${String(record.seq)}` } };
      if (record.prevHash !== prev) {
        return { ok: false, records: checked, broken: { seq, reason: 'broken link', detail: `prevHash ${String(record.prevHash)} is not the hash of record ${seq - 1} (${prev})` } };
      }
      const { prevHash: _prev, hash, ...entry } = record;
      const computed = auditHash(prev, entry);
      if (computed !== hash) return { ok: false, records: checked, broken: { seq, reason: 'hash mismatch', detail: `stored ${String(hash)}, computed ${computed}` } };
      if (anchor && anchor.seq === seq && anchor.hash !== hash) {
        return { ok: false, records: checked, broken: { seq, reason: 'anchor mismatch', detail: `the anchor kept off the box says ${anchor.hash}` } };
      }
      prev = hash;
      checked++;
    }
  }
  if (anchor && anchor.seq > head.seq) {
    return { ok: false, records: checked, broken: { seq: anchor.seq, reason: 'anchor mismatch', detail: `the anchored record is beyond the head (${head.seq}): the log was cut back` } };
  }
  if (head.hash !== prev) {
    return { ok: false, records: checked, broken: { seq: head.seq, reason: 'head mismatch', detail: `the head says ${head.hash}, the chain ends in ${prev}` } };
  }
  const [after] = await getMany([`audit:${head.seq + 1}`]);
  if (after !== undefined) {
    return { ok: false, records: checked, broken: { seq: head.seq + 1, reason: 'record after head', detail: 'a record exists beyond the head (the head was rolled back?)' } };
  }
  return { ok: true, records: checked, head: prev };
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        'data-dir': { type: 'string' },
        storage: { type: 'string' },
        namespace: { type: 'string', default: 'box' },
        anchor: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`usage error: ${(error as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log('Usage: npm run audit:verify -- [--data-dir DIR | --storage URL] [--namespace NS] [--anchor SEQ:HASH]\nChecks the audit log hash chain (and an anchor kept off the box); exit 0 when intact, 1 when broken.');
    return 0;
  }
  if (values['data-dir'] && values.storage) {
    console.error('usage error: give --data-dir or --storage, not both');
    return 2;
  }
  const anchorMatch = values.anchor ? /^(\d+):([0-9a-f]{64})$/.exec(values.anchor) : null;
  if (values.anchor && !anchorMatch) {
    console.error('usage error: --anchor must be SEQ:HASH (as logged by npm start)');
    return 2;
  }
  const anchor = anchorMatch ? { seq: Number(anchorMatch[1]), hash: anchorMatch[2]! } : undefined;
  const url = values.storage ?? `sqlite://${join(resolve(values['data-dir'] ?? 'data'), 'box.sqlite')}`;
  // A mistyped path must not pass as an empty, intact log (opening would create the file).
  if (url.startsWith('sqlite://') && !existsSync(url.slice('sqlite://'.length))) {
    console.error(`no audit store at ${url}`);
    return 2;
  }
  const persistence = await openPersistence(url, { namespace: values.namespace });
  try {
    const head = await persistence.auditHead();
    const verdict = await verifyChain((keys) => persistence.kv.getMany<AuditRecord>(keys), head, anchor);
    if (verdict.ok) {
      console.log(`audit log OK: ${verdict.records} records, head ${verdict.head}`);
      return 0;
    }
    const b = verdict.broken;
    console.log(`audit log BROKEN at seq ${b.seq}: ${b.reason} — ${b.detail} (${verdict.records} records before it are intact)`);
    return 1;
  } finally {
    await persistence.close();
  }
}

// Run as a command (not when a test imports verifyChain).
if (process.argv[1] && /verify-audit\.[cm]?[jt]s$/.test(process.argv[1])) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`audit verify failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(2);
    },
  );
}
