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
//
// The store is opened read-only and read raw: a verifier never changes what it verifies (no
// pragmas, no tables created, no checkpoint, and no record dropped because keyv finds an expiry
// on it — a record carrying one is reported, since the box never sets it).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { auditHash, type AuditRecord } from '../src/persistence/keyv-persistence.js';

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

/** The audit records of a store, read without writing anything to it. */
export interface AuditReader {
  head(): Promise<{ seq: number; hash: string }>;
  getMany(keys: string[]): Promise<Array<AuditRecord | undefined>>;
  /** sequence numbers of records read so far that carry a keyv expiry */
  readonly expiring: number[];
  close(): Promise<void>;
}

/**
 * Opens the audit log of `url` read-only: SQLite through its own read-only open flag (the file,
 * its WAL and its shared-memory index are read, never written), Redis with GET/MGET only. Values
 * are unwrapped from keyv's `{ value, expires }` here, not by keyv, which would delete an expired one.
 */
export async function openAuditReader(url: string, namespace = 'box'): Promise<AuditReader> {
  const expiring: number[] = [];
  const unwrap = (raw: string | null | undefined): AuditRecord | undefined => {
    if (raw === null || raw === undefined) return undefined;
    let stored: { value?: unknown; expires?: unknown };
    try {
      stored = JSON.parse(raw) as { value?: unknown; expires?: unknown };
    } catch {
      return { seq: Number.NaN } as AuditRecord; // unreadable: reported as a gap at its place
    }
    const record = stored?.value as AuditRecord | undefined;
    if (record && typeof record === 'object' && stored.expires !== undefined && stored.expires !== null) expiring.push(record.seq);
    return record ?? undefined;
  };
  let rawMany: (keys: string[]) => Promise<Array<string | null | undefined>>;
  let close: () => Promise<void>;
  if (url.startsWith('sqlite://')) {
    const file = url.slice('sqlite://'.length);
    const { default: sqlite3 } = await import('sqlite3');
    // A store nobody has open (no -wal file: the box closed it cleanly) is read as immutable, so
    // not even the WAL's side files are created. One with a WAL (a running or killed box) is read
    // through it, read-only: the database file is never written; SQLite keeps its read marks in
    // the existing -shm index.
    const closedCleanly = !existsSync(`${file}-wal`);
    const target = closedCleanly ? `file:${encodeURI(resolve(file)).replace(/[?#]/g, encodeURIComponent)}?immutable=1` : file;
    const db = await new Promise<InstanceType<typeof sqlite3.Database>>((resolveDb, reject) => {
      const opened: InstanceType<typeof sqlite3.Database> = new sqlite3.Database(target, sqlite3.OPEN_READONLY | sqlite3.OPEN_URI, (error) => (error ? reject(error) : resolveDb(opened)));
    });
    if (closedCleanly && existsSync(`${file}-wal`)) {
      // The box started while we opened: read through its WAL instead.
      await new Promise<void>((resolveClose) => db.close(() => resolveClose()));
      return openAuditReader(url, namespace);
    }
    rawMany = (keys) =>
      new Promise((resolveRows, reject) => {
        db.all<{ key: string; value: string }>('SELECT key, value FROM keyv WHERE key IN (SELECT value FROM json_each(?))', [JSON.stringify(keys.map((k) => `${namespace}:${k}`))], (error, rows) => {
          if (error) return reject(error);
          const byKey = new Map(rows.map((r) => [r.key, r.value]));
          resolveRows(keys.map((k) => byKey.get(`${namespace}:${k}`)));
        });
      });
    close = () => new Promise<void>((resolveClose) => db.close(() => resolveClose()));
  } else if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    const { createClient } = await import('@redis/client');
    const client = createClient({ url, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    await client.connect();
    rawMany = async (keys) => (keys.length ? client.mGet(keys.map((k) => `${namespace}::${k}`)) : []);
    close = async () => {
      await client.close();
    };
  } else {
    throw Object.assign(new Error(`audit:verify reads sqlite://FILE or redis://HOST:PORT, not "${url}"`), { code: 'INVALID_CONFIG' });
  }
  return {
    expiring,
    async head() {
      const [raw] = await rawMany(['audit:head']);
      if (raw === null || raw === undefined) return { seq: 0, hash: GENESIS };
      return (JSON.parse(raw) as { value: { seq: number; hash: string } }).value;
    },
    async getMany(keys) {
      return (await rawMany(keys)).map(unwrap);
    },
    close,
  };
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
  const reader = await openAuditReader(url, values.namespace);
  try {
    const head = await reader.head();
    const verdict = await verifyChain((keys) => reader.getMany(keys), head, anchor);
    if (reader.expiring.length) {
      console.log(`warning: ${reader.expiring.length} audit record(s) carry an expiry the box never sets (keyv would delete them when read): seq ${reader.expiring.slice(0, 20).join(', ')}`);
    }
    if (verdict.ok) {
      console.log(`audit log OK: ${verdict.records} records, head ${verdict.head}`);
      return 0;
    }
    const b = verdict.broken;
    console.log(`audit log BROKEN at seq ${b.seq}: ${b.reason} — ${b.detail} (${verdict.records} records before it are intact)`);
    return 1;
  } finally {
    await reader.close();
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
