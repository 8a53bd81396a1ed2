import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS, type Needed } from '../support/requires.js';
import { startRedis, type RedisServer } from './redis-server.js';

/** A storage backend the persistence tests run against, each with the same tests. */
export interface Backend {
  name: string;
  /** programs the backend needs from the machine (its suite is skipped without them, outside CI) */
  needs?: readonly Needed[];
  /** a fresh store's URL; opening it again reopens the same store */
  url(): Promise<string>;
  /** what is committed survives closing the store */
  durable: boolean;
  teardown(): Promise<void>;
}

/**
 * The real backends: SQLite (a file of its own per store, in a temporary directory named by
 * `prefix`) and a real redis-server on 127.0.0.1 (a database of its own per store, so tests on one
 * server stay apart); with `memory`, the in-memory one too.
 */
export function storageBackends(prefix: string, { memory = false } = {}): Backend[] {
  let redis: RedisServer | null = null;
  let redisDb = 0;
  const dirs: string[] = [];
  const backends: Backend[] = [
    {
      name: 'sqlite',
      durable: true,
      async url() {
        const dir = mkdtempSync(join(tmpdir(), prefix));
        dirs.push(dir);
        return `sqlite://${join(dir, 'box.sqlite')}`;
      },
      async teardown() {
        for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
      },
    },
    {
      name: 'redis',
      needs: [REDIS],
      durable: true,
      async url() {
        redis ??= await startRedis();
        return `${redis.url}/${++redisDb % 16}`;
      },
      async teardown() {
        await redis?.stop();
        redis = null;
      },
    },
  ];
  if (memory) backends.push({ name: 'memory', durable: false, url: async () => 'memory:', teardown: async () => {} });
  return backends;
}
