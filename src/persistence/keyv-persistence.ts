import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Keyv from 'keyv';
import { TIMERS, type ActorPersistence, type ActorWrite, type AuditRecordInput, type CommitBatch } from '../../actors/runtime/supervisor.js';
import { joinRows } from '../../actors/runtime/rows.js';
import { IdBuckets, materialize, type Staged } from './id-buckets.js';
import { KeyOrder } from './key-order.js';
import { ConnectionGate, GatedStore, retryBusy, SQLITE_BUSY_DEADLINE_MS, SQLITE_BUSY_TIMEOUT_MS, writeRows } from './sqlite-connection.js';
import type { ActorRecord, Address, Envelope } from '../../actors/runtime/types.js';

/** An audit record as stored: sequence number and a hash chained to the previous record. */
export interface AuditRecord extends AuditRecordInput {
  seq: number;
  prevHash: string;
  hash: string;
}

/**
 * Claims that must be won once across every process sharing the store (a fleet on one Redis):
 * keyv has no compare-and-set, so each backend uses its own atomic statement.
 */
export interface Claims {
  /** True when `owner` now holds `key` (it was free, or `owner` held it already); false when another holds it. */
  claimOnce(key: string, owner: string): Promise<boolean>;
  /** Gives a claim back, only if `owner` holds it. */
  release(key: string, owner: string): Promise<void>;
}

export interface Persistence extends ActorPersistence, Claims {
  readAudit(fromSeq?: number, limit?: number): Promise<AuditRecord[]>;
  auditHead(): Promise<{ seq: number; hash: string }>;
  /** the keyv instance, for inspection in tests */
  readonly kv: Keyv;
  /** a raw statement on the SQLite connection (maintenance and tests); absent on other backends */
  readonly query?: (sql: string, ...params: unknown[]) => Promise<unknown>;
  readonly url: string;
  close(): Promise<void>;
}

const GENESIS = '0'.repeat(64);

/**
 * Keys read per `getMany` when a start reads every actor, row and pending message. @keyv/sqlite matches each key
 * against every row returned (a linear search per key): loading 50,000 actors in one read took
 * 9.3 s, in reads of 500 it takes 0.75 s. On Redis it is one MGET per 500 keys.
 */
const READ_CHUNK = 500;
async function getManyInChunks<T>(kv: Keyv, keys: string[]): Promise<Array<T | undefined>> {
  const values: Array<T | undefined> = [];
  for (let i = 0; i < keys.length; i += READ_CHUNK) values.push(...(await kv.getMany<T>(keys.slice(i, i + READ_CHUNK))));
  return values;
}

/** Lists a table's row ids are kept in (see `rowIds` in openPersistence); part of the stored layout. */
const ROW_BUCKETS = 256;
/**
 * Lists the addresses of the box's actors are kept in; part of the stored layout. With one actor
 * per pickup (up to 50,000 live) a spawn or stop rewrites a list of about 50 addresses (~2 kB).
 */
const INDEX_BUCKETS = 1024;

/** Hash of an audit record: SHA-256 over the previous hash and the record's canonical JSON. */
export function auditHash(prevHash: string, entry: AuditRecordInput & { seq: number }): string {
  return createHash('sha256').update(prevHash).update(canonicalJson(entry)).digest('hex');
}

function canonicalJson(value: unknown): string {
  // What every stored hash was computed over (keys sorted by UTF-16 code units, as sort() without
  // a comparator orders strings; keys with undefined values left out; undefined in a list as
  // null), built by concatenation rather than through arrays of entries: one is hashed for every
  // audit record. (A hole in a list, which a record read back from JSON never has, now reads as
  // null; the first form left it empty.)
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + (canonicalJson(value[i]) ?? '');
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Opens the box's storage through keyv.
 * - `memory:` keeps everything in a Map (unit tests).
 * - `sqlite://path/to/box.sqlite` (the default) uses @keyv/sqlite with WAL and synchronous=FULL,
 *   so a committed write survives a power cut.
 */
export interface PersistenceOptions {
  /** prefix of this box's keys in a shared store (default `box`) */
  namespace?: string;
  /** scope of the atomic claims (default: the namespace); processes serving one box share it */
  claimNamespace?: string;
  /** Redis: start on a server that does not fsync every write (a warning instead of STORAGE_NOT_DURABLE) */
  allowNonDurable?: boolean;
  /** where start-up warnings go */
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /**
   * Whether a commit erased personal data, after which the SQLite WAL is checkpointed into the
   * database file and truncated (earlier versions of the erased rows live on in WAL frames until
   * then), and Redis rewrites its append-only file (which logs every earlier value until then).
   * Default: the commit carries a `pickup.personalDataDeleted` audit record.
   */
  erases?: (batch: CommitBatch) => boolean;
  /** Redis: how long a command may take before it fails (default 5 s; tests shorten it) */
  redisCommandTimeoutMs?: number;
}

const erasesPersonalData = (batch: CommitBatch): boolean => batch.audit?.some((a) => a.action === 'pickup.personalDataDeleted') ?? false;

export async function openPersistence(url: string, options: PersistenceOptions = {}): Promise<Persistence> {
  const namespace = options.namespace ?? 'box';
  const backend = await openBackend(url, namespace, { ...options, claimNamespace: options.claimNamespace ?? namespace });
  const { claims, transaction, disconnect, query, checkpoint, writeBatch } = backend;
  /** the store as the box's own commits and loads see it; `backend.kv` is what others get */
  const kv = backend.commitKv ?? backend.kv;
  const outside = backend.outside ?? direct;
  const claimOrder = new KeyOrder();
  const erases = options.erases ?? erasesPersonalData;
  // Caches of what is committed. A commit stages its changes in them; a commit that fails drops
  // them all, so they are read again from the store, which rolled the transaction back.
  /**
   * The address of every actor, in INDEX_BUCKETS lists (`actors:index:#<b>`), so that a spawn or a
   * stop rewrites one short list, not a list of every actor. Before the buckets it was one list
   * (`actors:index`), which is moved into the buckets when first read.
   */
  const newIndex = () => new IdBuckets(kv, (b) => `actors:index:#${b}`, INDEX_BUCKETS, 'actors:index');
  let index = newIndex();
  /**
   * Row ids per actor and table, in ROW_BUCKETS lists (`rows:<address>:<table>:#<b>`), so that
   * adding or removing a row rewrites one list of about n/256 ids, not one list of every id (which
   * made each pickup served cost more than the last); formerly one list, `rows:<address>:<table>`.
   */
  const rowIds = new Map<string, IdBuckets>();
  const rowIdsOf = (address: Address, table: string): IdBuckets => {
    const key = `${address}\u0000${table}`;
    let ids = rowIds.get(key);
    if (!ids) rowIds.set(key, (ids = new IdBuckets(kv, (b) => `rows:${address}:${table}:#${b}`, ROW_BUCKETS, `rows:${address}:${table}`)));
    return ids;
  };
  /** counts the times the caches were dropped: a move staged before a drop is not written */
  let generation = 0;
  let auditState: { seq: number; hash: string } | null = null;
  /** ids of committed messages not yet handled by their receiver, in the order they were sent */
  let messageIds: string[] | null = null;
  const forget = () => {
    generation++;
    index = newIndex();
    rowIds.clear();
    auditState = null;
    messageIds = null;
  };
  // Every write goes through one chain, each commit as one transaction where the backend has them:
  // a crash leaves every actor of a commit, its rows, messages, audit records and the indexes all
  // old or all new.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>, after?: () => Promise<void>): Promise<T> => {
    const run = chain.then(async () => {
      let result: T;
      try {
        result = await transaction(fn);
      } catch (error) {
        // Whatever failed — a statement, BEGIN, or the COMMIT itself (a full disk fails there,
        // when the WAL grows) — the transaction is rolled back: the caches go, they are read again.
        forget();
        throw storageError(error);
      }
      if (after) await after();
      return result;
    });
    chain = run.catch(() => {});
    return run;
  };
  /** After a commit that erased personal data: no earlier version of it stays in the WAL file. */
  const truncateWal = checkpoint
    ? async () => {
        try {
          const { busy } = await checkpoint();
          if (busy) options.log?.('warn', 'WAL checkpoint after erasing personal data was blocked by another connection; it runs again at the next erasure and at start');
        } catch (error) {
          // The erasure is committed; only the clean-up of old WAL frames failed.
          options.log?.('warn', 'clean-up of old copies after erasing personal data (SQLite WAL checkpoint, Redis AOF rewrite) failed', { reason: (error as Error).message });
        }
      }
    : undefined;

  const loadHead = async (): Promise<{ seq: number; hash: string }> => {
    if (!auditState) auditState = (await kv.get<{ seq: number; hash: string }>('audit:head')) ?? { seq: 0, hash: GENESIS };
    return auditState;
  };
  const loadMessageIds = async (): Promise<string[]> => {
    if (!messageIds) messageIds = (await kv.get<string[]>('messages:index')) ?? [];
    return messageIds;
  };
  /** Writes staged keys (undefined: delete) inside the open transaction. */
  const writeOut = async (out: Staged): Promise<void> => {
    materialize(out);
    if (writeBatch) return writeBatch(out);
    for (const [key, value] of out) {
      if (value === undefined) await kv.delete(key);
      else await kv.set(key, value);
    }
  };
  /**
   * The key writes of one actor's commit (undefined value: delete), staged in the caches. An id
   * list is read by the first commit that changes it and then kept: later commits wait for no
   * read, and staging an id costs no promise.
   */
  const stageActor = async (write: ActorWrite, out: Staged): Promise<void> => {
    const { address } = write;
    if (!index.loaded) await index.load(out);
    if ('deleted' in write) {
      index.delete(address, out);
      out.set(`actor:${address}`, undefined);
      return;
    }
    const { record, rows } = write;
    out.set(`actor:${address}`, record);
    if (rows) {
      if (rows.full) {
        for (const table of record.tables ?? []) {
          const ids = rowIdsOf(address, table);
          if (!ids.loaded) await ids.load(out);
          for (const id of ids.clear(out)) out.set(`row:${address}:${table}:${id}`, undefined);
        }
      }
      for (const change of rows.changes) {
        const ids = rowIdsOf(address, change.table);
        if (!ids.loaded) await ids.load(out);
        out.set(`row:${address}:${change.table}:${change.id}`, change.value);
        if (change.value === undefined) ids.delete(change.id, out);
        else ids.add(change.id, out);
      }
    }
    index.add(address, out);
  };

  /** Stages one batch's writes in the caches and writes them, inside the open transaction. */
  const writeCommit = async (batch: CommitBatch): Promise<void> => {
    const out: Staged = new Map();
    for (const write of batch.actors ?? []) await stageActor(write, out);
    if (batch.audit?.length) {
      let head = { ...(await loadHead()) };
      for (const entry of batch.audit) {
        const seq = head.seq + 1;
        const hash = auditHash(head.hash, { ...entry, seq });
        out.set(`audit:${seq}`, { ...entry, seq, prevHash: head.hash, hash } satisfies AuditRecord);
        head = { seq, hash };
      }
      out.set('audit:head', head);
      auditState = head;
    }
    if (batch.sent?.length || batch.handled?.length) {
      const handled = new Set(batch.handled ?? []);
      const pending = (await loadMessageIds()).filter((id) => !handled.has(id));
      for (const id of handled) out.set(`message:${id}`, undefined);
      for (const env of batch.sent ?? []) {
        // Sent and handled within one commit (a group commit can hold both): never stored.
        if (handled.has(env.id)) continue;
        out.set(`message:${env.id}`, env);
        pending.push(env.id);
      }
      messageIds = pending;
      out.set('messages:index', pending);
    }
    if (batch.probe !== undefined) out.set('storage:probe', batch.probe);
    await writeOut(out);
  };
  // A batch that fills itself (`fill`: the supervisor's group commit) is filled once the
  // transaction is open, so commits queued during BEGIN still join it.
  const commit = (batch: CommitBatch): Promise<void> =>
    serial(
      () => {
        batch.fill?.();
        return writeCommit(batch);
      },
      truncateWal ? () => (erases(batch) ? truncateWal() : Promise.resolve()) : undefined,
    );

  /** Every actor with its rows, and the writes that move lists written before the buckets into them. */
  const loadAll = async (): Promise<{ out: Map<Address, ActorRecord>; migrate: Staged }> => {
    const out = new Map<Address, ActorRecord>();
    /** the index and row-id lists of an earlier version, moved into buckets once (see loadActors) */
    const migrate: Staged = new Map();
    // Buckets hold addresses in hash order: actors come back in their addresses' natural order.
    const addresses = await index.ids(migrate);
    const values = await getManyInChunks<ActorRecord>(kv, addresses.map((a) => `actor:${a}`));
    for (const [i, address] of addresses.entries()) {
      const record = values[i];
      if (!record) continue;
      if (!record.tables?.length) {
        out.set(address, record);
        continue;
      }
      const tables: Record<string, Record<string, unknown>> = {};
      for (const table of record.tables) {
        const ids = await rowIdsOf(address, table).ids(migrate);
        const rows = await getManyInChunks<unknown>(kv, ids.map((id) => `row:${address}:${table}:${id}`));
        tables[table] = Object.fromEntries(ids.flatMap((id, j) => (rows[j] === undefined ? [] : [[id, rows[j]]])));
      }
      // Timers kept as rows go back to the record's timer list, not into the context.
      const { [TIMERS]: timerRows, ...ctxTables } = tables;
      const ctxTableNames = record.tables.filter((t) => t !== TIMERS);
      const timers = timerRows ? (Object.values(timerRows) as ActorRecord['timers']) : record.timers;
      out.set(address, { ...record, timers, tables: ctxTableNames, ctx: joinRows(record.ctx, ctxTableNames, ctxTables) });
    }
    return { out, migrate };
  };

  return {
    kv: backend.kv,
    url,
    ...(query ? { query } : {}),
    commit,
    saveActor: (address, record, rows) => commit({ actors: [{ address, record, rows }] }),
    deleteActor: (address) => commit({ actors: [{ address, deleted: true }] }),
    appendAudit: (entry) => commit({ audit: [entry] }),
    // Reads wait for an open commit: they never see rows that may yet be rolled back.
    loadActors: async () => {
      const loadedIn = generation;
      const { out, migrate } = await outside(loadAll);
      // The index or a row-id list from before the buckets: moved into them in one transaction,
      // the old key deleted with it. The lists are written as they stand then, with the changes
      // of any commit since; if a commit failed since, the caches were read again and the move is
      // staged by the next commit that reads them.
      if (migrate.size) await serial(async () => (generation === loadedIn ? writeOut(migrate) : undefined));
      return out;
    },
    loadMessages: () => outside(async () => {
      const ids = await loadMessageIds();
      const values = await getManyInChunks<Envelope>(kv, ids.map((id) => `message:${id}`));
      return values.filter((v): v is Envelope => v !== undefined);
    }),
    readAudit: (fromSeq = 1, limit = 1_000) => outside(async () => {
      const head = await loadHead();
      const last = Math.min(head.seq, fromSeq + limit - 1);
      if (last < fromSeq) return [];
      const keys: string[] = [];
      for (let s = fromSeq; s <= last; s++) keys.push(`audit:${s}`);
      const values = await kv.getMany<AuditRecord>(keys);
      return values.filter((v): v is AuditRecord => v !== undefined);
    }),
    auditHead: () => outside(async () => ({ ...(await loadHead()) })),
    // A claim the store cannot answer is a storage failure, coded as a commit's is.
    // (In the order they were made, key by key: a release never lands before the claim made before it.)
    claimOnce: (key, owner) => claimOrder.run(key, () => claims.claimOnce(key, owner)).catch((error: unknown) => Promise.reject(storageError(error))),
    release: (key, owner) => claimOrder.run(key, () => claims.release(key, owner)).catch((error: unknown) => Promise.reject(storageError(error))),
    async close() {
      await chain;
      await disconnect();
    },
  };
}

/** A storage failure as the box reports it: coded, with the backend's reason kept as the cause. */
export function storageError(error: unknown): Error {
  if (error instanceof Error && (error as { code?: unknown }).code === 'STORAGE_UNAVAILABLE') return error;
  const reason = error instanceof Error ? error.message : String(error);
  return Object.assign(new Error(`storage unavailable: ${reason}`, { cause: error }), { code: 'STORAGE_UNAVAILABLE' });
}

interface Backend {
  /** keyv for everyone outside the box's commits */
  kv: Keyv;
  /** keyv used inside a commit's transaction (default: `kv`) */
  commitKv?: Keyv;
  /** runs a read outside any open commit (default: at once) */
  outside?: <T>(fn: () => Promise<T>) => Promise<T>;
  claims: Claims;
  /** runs `fn` as one atomic commit where the backend supports it */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  query?: (sql: string, ...params: unknown[]) => Promise<unknown>;
  /** SQLite: copies the WAL into the database file and truncates it to zero bytes; Redis: starts an AOF rewrite */
  checkpoint?: () => Promise<{ busy: boolean }>;
  /** writes a commit's keys (undefined: delete) as one atomic unit where keyv cannot (Redis: MULTI/EXEC) */
  writeBatch?: (writes: Map<string, unknown>) => Promise<void>;
  disconnect(): Promise<void>;
}

const direct = <T>(fn: () => Promise<T>): Promise<T> => fn();
// keyv's default serializer also handles Buffers and Dates; the box stores plain JSON only, and
// JSON.stringify is several times faster on the registry's large values.
const json = { serialize: JSON.stringify, deserialize: JSON.parse };

/**
 * The backends:
 * - `memory:` keeps everything in a Map (unit tests).
 * - `sqlite://FILE` (the default) through @keyv/sqlite, with WAL and synchronous=FULL so that a
 *   committed write survives a power cut; claims are rows of a table with a primary key
 *   (`INSERT … ON CONFLICT DO NOTHING RETURNING`).
 * - `redis://HOST:PORT` through @keyv/redis for a fleet; claims are `SET key owner NX`.
 */
async function openBackend(url: string, namespace: string, options: PersistenceOptions & { claimNamespace: string }): Promise<Backend> {
  // Claims are scoped: two boxes on one store (a fleet on one Redis) never block each other.
  const claimKey = (key: string) => `claim:${options.claimNamespace}:${key}`;
  if (url === 'memory:' || url === 'memory') {
    const held = new Map<string, string>();
    const kv = new Keyv({ namespace, ...json, throwOnErrors: true });
    const map = kv.store as Map<string, string>;
    return {
      kv,
      transaction: direct,
      // A commit's keys go into keyv's Map as keyv itself stores them (`<namespace>:<key>` →
      // `{"value":…}`, read back through kv), without a promise chain per key.
      writeBatch: async (writes) => {
        for (const [key, value] of writes) {
          if (value === undefined) map.delete(`${namespace}:${key}`);
          else map.set(`${namespace}:${key}`, `{"value":${json.serialize(value)}}`);
        }
      },
      claims: {
        async claimOnce(key, owner) {
          const holder = held.get(key);
          if (holder !== undefined) return holder === owner;
          held.set(key, owner);
          return true;
        },
        async release(key, owner) {
          if (held.get(key) === owner) held.delete(key);
        },
      },
      disconnect: () => kv.disconnect(),
    };
  }
  if (url.startsWith('sqlite://')) {
    const file = url.slice('sqlite://'.length);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const { KeyvSqlite } = await import('@keyv/sqlite');
    // While it opens, the box runs one statement at a time: SQLite's own busy handler may wait as
    // long as the retries would (another process recovering or checkpointing the WAL). Once it
    // serves, the short wait below keeps waiting statements off libuv's pool threads.
    const store = new KeyvSqlite({ uri: url, busyTimeout: SQLITE_BUSY_DEADLINE_MS });
    const gate = new ConnectionGate();
    /** a statement outside the box's commits: after any open transaction, retried while another process holds the lock */
    const queryOutside = (sql: string, ...params: unknown[]) => gate.outside(() => retryBusy(() => store.query(sql, ...params)));
    // A damaged file is refused before anything reads from it: running on it would lose or
    // revive pickups silently.
    let verdict: string;
    try {
      const rows = (await retryBusy(() => store.query('PRAGMA quick_check'))) as Array<Record<string, string>>;
      verdict = rows.map((r) => Object.values(r)[0]).join('; ');
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'SQLITE_CORRUPT' && code !== 'SQLITE_NOTADB') {
        // Locked, unreadable, no room: not damage. The file is kept as it is.
        await store.disconnect().catch(() => {});
        throw storageError(Object.assign(new Error(`the database ${file} cannot be checked at start (${(error as Error).message})`), { cause: error }));
      }
      verdict = error instanceof Error ? error.message : String(error);
    }
    if (verdict !== 'ok') {
      await store.disconnect().catch(() => {});
      throw Object.assign(
        new Error(
          `the database ${file} is damaged (${verdict.slice(0, 300)}); the box does not start on it. ` +
            `Keep the file, restore the last backup, or recover what is readable with ` +
            `\`sqlite3 ${file} ".recover" | sqlite3 recovered.sqlite\`, check it with \`npm run audit:verify -- --storage sqlite://recovered.sqlite\`, then start on it`,
        ),
        { code: 'STORAGE_DAMAGED' },
      );
    }
    // Durability: WAL journal and a full fsync on every commit. keyv has no option for this, so
    // the pragmas go through the adapter's own query function on the same connection.
    // Another process on the same file may hold the lock while it changes the journal mode.
    await retryBusy(() => store.query('PRAGMA journal_mode = WAL'));
    await store.query('PRAGMA synchronous = FULL');
    // Deleted rows (an outbox SMS with its PIN, purged personal data) are overwritten, not left in free pages.
    await store.query('PRAGMA secure_delete = ON');
    const checkpoint = async () => {
      // The driver finalizes a finished statement a moment after its callback; until then the
      // checkpoint reports SQLITE_LOCKED: try again shortly.
      for (let attempt = 1; ; attempt++) {
        try {
          const rows = (await queryOutside('PRAGMA wal_checkpoint(TRUNCATE)')) as Array<{ busy: number }>;
          return { busy: (rows[0]?.busy ?? 0) !== 0 };
        } catch (error) {
          if ((error as { code?: unknown }).code !== 'SQLITE_LOCKED' || attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
    };
    // A process killed between an erasure and its checkpoint left the old frames: clear them now.
    await checkpoint();
    await queryOutside('CREATE TABLE IF NOT EXISTS claims(key VARCHAR(255) PRIMARY KEY, owner TEXT NOT NULL)');
    await store.query(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    return {
      // Handed out: waits while a commit's transaction is open. Commits use the connection directly.
      kv: new Keyv({ store: new GatedStore(store, gate) as never, namespace, ...json, throwOnErrors: true }),
      commitKv: new Keyv({ store, namespace, ...json, throwOnErrors: true }),
      outside: (fn) => gate.outside(fn),
      query: queryOutside,
      checkpoint,
      transaction: (fn) =>
        gate.exclusive(async () => {
          await retryBusy(() => store.query('BEGIN IMMEDIATE'));
          try {
            const result = await fn();
            await store.query('COMMIT');
            return result;
          } catch (error) {
            await store.query('ROLLBACK').catch(() => {});
            throw error;
          }
        }),
      writeBatch: (writes) => writeRows(store, namespace, writes, json.serialize),
      claims: {
        async claimOnce(key, owner) {
          // Inserted, or already ours (the no-op update then returns the row): one atomic statement.
          const rows = (await queryOutside(
            'INSERT INTO claims(key, owner) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET owner = owner WHERE claims.owner = excluded.owner RETURNING key',
            claimKey(key),
            owner,
          )) as unknown[];
          return rows.length === 1;
        },
        async release(key, owner) {
          await queryOutside('DELETE FROM claims WHERE key = ? AND owner = ?', claimKey(key), owner);
        },
      },
      disconnect: () => gate.outside(() => store.disconnect()),
    };
  }
  if (url.startsWith('redis://') || url.startsWith('rediss://')) {
    const { default: KeyvRedis } = await import('@keyv/redis');
    const { createClient, ClientClosedError, ClientOfflineError, ErrorReply } = await import('@redis/client');
    /** Redis answered, or the transaction never left the box: either way its outcome is known. */
    const outcomeKnown = (error: unknown) =>
      error instanceof ClientOfflineError || error instanceof ClientClosedError || error instanceof ErrorReply || (error as { code?: unknown }).code === 'ECONNREFUSED';
    // Fail fast while Redis is away instead of hanging: no offline queue (a command while
    // disconnected is refused at once), a timeout on every command, and reconnecting in the
    // background so the box's storage probe finds Redis again when it returns.
    const timeoutMs = options.redisCommandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS;
    const client = createClient({
      url,
      disableOfflineQueue: true,
      // node-redis' own command timeout only covers a command not yet written; an answer that
      // never comes (a frozen server, a link that drops packets) is caught by the socket's idle
      // timeout instead, which fails every waiting command. A ping every half of it keeps a quiet
      // healthy connection from timing out (the next ping leaves only after the previous answer).
      commandOptions: { timeout: timeoutMs },
      pingInterval: Math.max(50, Math.floor(timeoutMs / 2)),
      socket: { connectTimeout: timeoutMs, socketTimeout: timeoutMs, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2_000) },
    });
    let lastError = '';
    client.on('error', (error: Error) => {
      // Reported once per kind of failure; every failed commit is logged by the supervisor.
      if (error.message !== lastError) options.log?.('warn', 'redis connection error', { reason: error.message });
      lastError = error.message;
    });
    client.on('ready', () => {
      lastError = '';
    });
    try {
      await connectWithin(client, timeoutMs);
    } catch (error) {
      await client.destroy();
      throw unreachable(url, error);
    }
    let appendonly: string;
    try {
      appendonly = await checkRedisDurability(client, url, options, (error) => error instanceof ErrorReply);
    } catch (error) {
      await client.destroy();
      throw error;
    }
    const store = new KeyvRedis(client as never, { namespace, throwOnErrors: true, connectionTimeout: timeoutMs });
    store.on('error', () => {}); // the client's own listener above reports it
    const kv = new Keyv({ store, namespace, useKeyPrefix: false, ...json, throwOnErrors: true });
    // After a commit that erased personal data the append-only file still logs the erased values
    // (every earlier SET) until Redis rewrites it: ask for a rewrite at once. A rewrite already
    // running copies the data as it was before the erasure, so then ask again a second later.
    let rewriteAgain: NodeJS.Timeout | undefined;
    const rewriteAof = async (): Promise<{ busy: boolean }> => {
      if (rewriteAgain) return { busy: false }; // a rewrite after this erasure is already due
      try {
        await client.sendCommand(['BGREWRITEAOF']);
      } catch (error) {
        if (!/already in progress/i.test((error as Error).message)) throw error;
        rewriteAgain = setTimeout(() => {
          rewriteAgain = undefined;
          rewriteAof().catch((e: Error) => options.log?.('warn', 'AOF rewrite after erasing personal data failed', { reason: e.message }));
        }, 1_000);
        rewriteAgain.unref();
      }
      return { busy: false };
    };
    // The outcome of a commit whose EXEC got no answer.
    const writer = randomBytes(6).toString('hex');
    const marker = `${namespace}::commit:last`;
    let commits = 0;
    /** a commit whose outcome could not be learnt: the next commit finds it out first */
    let uncertain: string | null = null;
    let diverged = false;
    /** true: stored; false: not stored; undefined: Redis did not answer within the command timeout */
    const markerIs = async (id: string): Promise<boolean | undefined> => {
      // The monotonic clock: a wall-clock step neither ends nor stretches the wait.
      const until = performance.now() + timeoutMs;
      while (performance.now() < until) {
        try {
          // On one connection replies come in order: this one follows the lost EXEC's, if Redis got it.
          return (await client.get(marker)) === id;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, Math.min(200, timeoutMs / 4)));
        }
      }
      return undefined;
    };
    const settleUncertain = async () => {
      if (uncertain === null) return;
      if ((await client.get(marker)) !== uncertain) {
        uncertain = null; // it was not stored: the box's state is the store's
        return;
      }
      // It was stored after the box had rolled its actors back and refused the request: the store is
      // ahead of the running box. Only a restart (which reloads from the store) joins them again.
      const text = 'a commit Redis did not answer turned out stored after the box had given it up: restart the box so that it reloads its state from Redis';
      if (!diverged) options.log?.('error', text);
      diverged = true;
      throw Object.assign(new Error(text), { code: 'STORAGE_UNAVAILABLE' });
    };
    // A process stopped between an erasure and its rewrite (or before a rewrite due a second later) left the values in the AOF: rewrite now.
    if (appendonly === 'yes') await rewriteAof().catch((e: Error) => options.log?.('warn', 'AOF rewrite at start failed', { reason: e.message }));
    return {
      kv,
      transaction: direct,
      ...(appendonly === 'yes' ? { checkpoint: rewriteAof } : {}),
      // keyv writes key by key; a commit goes to Redis as one MULTI/EXEC instead, stored exactly as
      // keyv stores a value (`{"value":…}` under `<namespace>::<key>`), so keyv reads it back. All
      // of a commit or none of it, also for the append-only file.
      //
      // Each commit also sets a marker with its own id. When EXEC fails without an answer (a
      // timeout, the connection dropped after sending), Redis may have run it: the marker says
      // whether it did, once Redis answers again, and a stored commit counts as committed.
      async writeBatch(writes) {
        await settleUncertain();
        const id = `${writer}:${++commits}`;
        const multi = client.multi();
        for (const [key, value] of writes) {
          const stored = `${namespace}::${key}`;
          if (value === undefined) multi.unlink(stored);
          else multi.set(stored, json.serialize({ value }));
        }
        multi.set(marker, id);
        try {
          // node-redis applies no command timeout to a transaction: a silent Redis would hang the commit.
          await within(multi.exec(), timeoutMs, 'Redis did not answer the commit');
        } catch (error) {
          if (outcomeKnown(error)) throw error;
          const stored = await markerIs(id);
          if (stored === true) {
            options.log?.('warn', 'a commit got no answer from Redis but is stored: it counts as committed', { reason: (error as Error).message });
            return;
          }
          if (stored === undefined) uncertain = id;
          throw error;
        }
      },
      claims: {
        async claimOnce(key, owner) {
          if ((await client.set(claimKey(key), owner, { NX: true })) === 'OK') return true;
          // Held already: ours if we are the holder (a claim once set only changes by release).
          return (await client.get(claimKey(key))) === owner;
        },
        async release(key, owner) {
          // compare-and-delete in one atomic script
          await client.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end", { keys: [claimKey(key)], arguments: [owner] });
        },
      },
      disconnect: async () => {
        clearTimeout(rewriteAgain);
        if (client.isOpen) await client.close().catch(() => client.destroy());
      },
    };
  }
  throw Object.assign(new Error(`unsupported storage URL "${url}" (use sqlite://FILE, redis://HOST:PORT or memory:)`), { code: 'INVALID_CONFIG' });
}

/** A Redis command (and a connection attempt) that takes longer fails with STORAGE_UNAVAILABLE. */
const REDIS_COMMAND_TIMEOUT_MS = 5_000;

/** What the start-up checks need of a Redis client. */
interface RedisClient {
  connect(): Promise<unknown>;
  configGet(parameter: string): Promise<unknown>;
}

/** `promise`, or a rejection after `ms` (the promise itself goes on). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function connectWithin(client: RedisClient, ms: number): Promise<void> {
  await within(client.connect(), ms, 'no connection');
}

/** The URL without its password, for messages and logs. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** A Redis that gave no answer at start (no connection, or none to a question in time): STORAGE_UNAVAILABLE. */
function unreachable(url: string, error: unknown): Error {
  return Object.assign(new Error(`Redis at ${redactUrl(url)} does not answer: ${(error as Error).message}`, { cause: error }), { code: 'STORAGE_UNAVAILABLE' });
}

/**
 * A Redis that does not write every command to its append-only file with an fsync loses committed
 * state when it restarts (with its default configuration, everything since the last snapshot):
 * compartments holding documents would come back free. Refused unless the operator said otherwise.
 * `refused`: whether an error is Redis' own answer (a CONFIG renamed or forbidden), not a missing one.
 */
async function checkRedisDurability(client: RedisClient, url: string, options: PersistenceOptions, refused: (error: unknown) => boolean): Promise<string> {
  let appendonly = '?';
  let appendfsync = '?';
  let unknown = '';
  try {
    const got = (await client.configGet('append*')) as Record<string, string>;
    appendonly = got.appendonly ?? '?';
    appendfsync = got.appendfsync ?? '?';
  } catch (error) {
    // No answer in time (a Redis too busy or frozen, the link gone) says nothing about durability:
    // the store is not reachable, as when the connection itself fails.
    if (!refused(error)) throw unreachable(url, error);
    // CONFIG may be renamed or forbidden on a managed server: then durability cannot be checked.
    unknown = (error as Error).message;
  }
  if (appendonly === 'yes' && appendfsync === 'always') return appendonly;
  const found = unknown ? `CONFIG GET is refused (${unknown}), so durability cannot be checked` : `appendonly is "${appendonly}" and appendfsync is "${appendfsync}"`;
  const text =
    `Redis at ${redactUrl(url)} does not persist every write: ${found}. A Redis restart would lose committed pickups and show ` +
    `compartments holding documents as free. Run it with --appendonly yes --appendfsync always (redis.conf: appendonly yes, appendfsync always)`;
  if (options.allowNonDurable) {
    options.log?.('warn', `${text}; starting anyway because storageAllowNonDurable is set`, { appendonly, appendfsync });
    return appendonly;
  }
  throw Object.assign(new Error(`${text}, or set storageAllowNonDurable: true to accept the risk`), { code: 'STORAGE_NOT_DURABLE' });
}
