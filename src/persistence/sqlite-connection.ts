/**
 * One SQLite connection shared by the box's commits and everything else that reaches its file
 * (atomic claims, the archive, the fleet outbox, the health probe, maintenance queries).
 *
 * - **Transactions are exclusive on the connection.** A statement issued while a commit's
 *   transaction is open would run inside it (one connection, one transaction): a claim would be
 *   rolled back with someone else's failed commit, an archive write would vanish with it, a read
 *   would see rows that are not committed. So everything outside a commit waits at the gate while a
 *   transaction is open, and a transaction begins only once the statements already running outside
 *   have finished.
 * - **Waiting for another process's lock does not hold a thread.** node-sqlite3 runs statements on
 *   libuv's thread pool (4 threads); SQLite's busy handler sleeps on that thread. With a long busy
 *   timeout, four statements waiting for another connection's write lock take every thread, and the
 *   connection holding the lock then cannot run its COMMIT: both wait out the timeout and fail
 *   (seen with two boxes on one file in one process). Once the box serves, the busy timeout is
 *   short (while it opens, one statement at a time, SQLite waits up to the deadline itself), and a statement
 *   that may be repeated whole (an autocommit statement, `BEGIN IMMEDIATE`) is tried again from
 *   JavaScript until a deadline.
 * - **A commit writes all its keys in a few statements.** keyv's SQLite adapter has no `setMany`;
 *   key by key, a commit of five keys was ten statements (each delete reads first). Rows are
 *   written as keyv writes them (`<namespace>:<key>` → `{"value":…}`), so keyv reads them back.
 */
import { EventEmitter } from 'node:events';
import type KeyvSqlite from '@keyv/sqlite';

/** How long SQLite's own busy handler waits on a pool thread before JavaScript takes over. */
export const SQLITE_BUSY_TIMEOUT_MS = 25;
/** How long a statement keeps trying while another process holds the write lock. */
export const SQLITE_BUSY_DEADLINE_MS = 5_000;

export class ConnectionGate {
  private running = 0;
  private drained: Array<() => void> = [];
  private open: Promise<void> | null = null;

  /** Runs `fn` outside any transaction of this connection. */
  async outside<T>(fn: () => Promise<T>): Promise<T> {
    while (this.open) await this.open;
    this.running++;
    try {
      return await fn();
    } finally {
      if (--this.running === 0) for (const resolve of this.drained.splice(0)) resolve();
    }
  }

  /** Runs `fn` (a transaction) alone on the connection. */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.open) await this.open;
    let close!: () => void;
    this.open = new Promise<void>((resolve) => (close = resolve));
    try {
      if (this.running > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
      return await fn();
    } finally {
      this.open = null;
      close();
    }
  }
}

const isBusy = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === 'SQLITE_BUSY';

/** Repeats `fn` — a statement that either happened whole or not at all — while the file is locked by another connection. */
export async function retryBusy<T>(fn: () => Promise<T>, deadlineMs = SQLITE_BUSY_DEADLINE_MS): Promise<T> {
  // The monotonic clock: a wall-clock step (NTP on a Pi without RTC) neither ends nor stretches the wait.
  const until = performance.now() + deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isBusy(error) || performance.now() >= until) throw error;
      // Backoff with jitter so that two waiting connections do not retry in lockstep.
      const ms = Math.min(2 ** attempt, 50) * (0.5 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
  }
}

type Store = InstanceType<typeof KeyvSqlite>;

/**
 * The keyv store adapter handed out to code outside the box's commits: the same connection, each
 * call waiting at the gate while a commit's transaction is open and retried while another process
 * holds the lock.
 */
export class GatedStore extends EventEmitter {
  constructor(
    /** the adapter itself (every statement goes through its `query`; the crash soak kills there) */
    readonly connection: Store,
    private readonly gate: ConnectionGate,
  ) {
    super();
    connection.on('error', (error: unknown) => this.emit('error', error));
  }
  get opts() {
    return this.connection.opts;
  }
  get namespace(): string | undefined {
    return this.connection.namespace;
  }
  set namespace(value: string | undefined) {
    this.connection.namespace = value;
  }
  private run<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.outside(() => retryBusy(fn));
  }
  get(key: string) {
    return this.run(() => this.connection.get(key));
  }
  getMany(keys: string[]) {
    return this.run(() => this.connection.getMany(keys));
  }
  has(key: string) {
    return this.run(() => this.connection.has(key));
  }
  set(key: string, value: unknown) {
    return this.run(() => this.connection.set(key, value));
  }
  delete(key: string) {
    return this.run(() => this.connection.delete(key));
  }
  deleteMany(keys: string[]) {
    return this.run(() => this.connection.deleteMany(keys));
  }
  clear() {
    return this.run(() => this.connection.clear());
  }
  disconnect() {
    return this.gate.outside(() => this.connection.disconnect());
  }
}

/** Rows per statement: well under SQLite's 32,766 bound parameters. */
const ROWS_PER_STATEMENT = 500;

/**
 * Writes a commit's keys (undefined: delete) inside the open transaction: one multi-row upsert and
 * one delete per 500 keys, stored as keyv stores them.
 */
export async function writeRows(store: Store, namespace: string, writes: Map<string, unknown>, serialize: (data: { value: unknown }) => string): Promise<void> {
  const table = store.opts.table as string;
  const sets: string[] = [];
  const deletes: string[] = [];
  for (const [key, value] of writes) {
    if (value === undefined) deletes.push(`${namespace}:${key}`);
    else sets.push(`${namespace}:${key}`, serialize({ value }));
  }
  for (let i = 0; i < sets.length; i += 2 * ROWS_PER_STATEMENT) {
    const chunk = sets.slice(i, i + 2 * ROWS_PER_STATEMENT);
    const values = Array.from({ length: chunk.length / 2 }, () => '(?, ?)').join(', ');
    await store.query(`INSERT INTO ${table}(key, value) VALUES ${values} ON CONFLICT(key) DO UPDATE SET value = excluded.value`, ...chunk);
  }
  for (let i = 0; i < deletes.length; i += ROWS_PER_STATEMENT) {
    const chunk = deletes.slice(i, i + ROWS_PER_STATEMENT);
    await store.query(`DELETE FROM ${table} WHERE key IN (${chunk.map(() => '?').join(', ')})`, ...chunk);
  }
}
