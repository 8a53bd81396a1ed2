/**
 * Actor index: what the commit of spawning one more actor costs with 1,000 / 10,000 / 50,000
 * actors already stored, and what reading them all back at a start costs per actor, through the real commit path (src/persistence/keyv-persistence.ts) on
 * an SQLite file with WAL and synchronous=FULL. The index is kept in 1,024 lists by a hash of the
 * address, so a spawn rewrites one list of about n / 1,024 addresses; the target is a flat cost.
 * Baseline in the same run: the same spawn plus one value holding every address, in the same
 * transaction — the bytes the previous layout (one `actors:index` list) wrote on every spawn.
 * The sizes are measured round by round, interleaved in a rotating order, so that a slower
 * moment of the machine falls on all of them alike.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ActorRecord } from '../actors/runtime/types.js';
import { openPersistence, type Persistence } from '../src/persistence/keyv-persistence.js';
import { median, nowMs, percentile, ROOT, row, type BenchContext, type Row } from './lib.js';

/** A stored actor about the size of a pickup actor's record. */
const record = (n: number): ActorRecord => ({
  kind: 'pickup',
  ctx: { id: `P${n}`, reference: `V-2026-${String(n).padStart(6, '0')}`, status: 'READY', compartmentId: 'A07', documentKind: 'ID_CARD', readyAt: 1_790_000_000_000 + n, failedPins: 0 },
  timers: [{ key: 'expire', at: 1_790_864_000_000 + n, message: { type: 'expire' } }],
  status: 'active',
} as ActorRecord);

interface Store {
  size: number;
  persistence: Persistence;
  addresses: string[];
  dir: string;
}

async function storeWith(size: number): Promise<Store> {
  mkdirSync(join(ROOT, 'bench', '.scratch'), { recursive: true });
  // The work tree's disk, never a tmpfs where fsync costs nothing.
  const dir = mkdtempSync(join(ROOT, 'bench', '.scratch', 'actor-index-'));
  const persistence = await openPersistence(`sqlite://${join(dir, 'box.sqlite')}`);
  const addresses: string[] = [];
  for (let from = 0; from < size; from += 5_000) {
    const batch = Array.from({ length: Math.min(5_000, size - from) }, (_, i) => `pickup/P${from + i}`);
    await persistence.commit({ actors: batch.map((address, i) => ({ address, record: record(from + i) })) });
    addresses.push(...batch);
  }
  return { size, persistence, addresses, dir };
}

/** Spawns one more actor; with `wholeIndex`, the same commit also writes one value of every address. */
async function spawnOne(store: Store, wholeIndex: boolean): Promise<number> {
  const n = store.addresses.length;
  const address = `pickup/P${n}`;
  store.addresses.push(address);
  const t0 = nowMs();
  await store.persistence.commit({
    actors: [
      { address, record: record(n) },
      // What the previous layout wrote on every spawn: a copy of the index, serialized whole.
      ...(wholeIndex ? [{ address: 'bench/whole-index', record: { kind: 'index', ctx: [...store.addresses], timers: [], status: 'active' } as ActorRecord }] : []),
    ],
  });
  return nowMs() - t0;
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const sizes = [1_000, 10_000, 50_000];
  const rounds = quick ? 40 : 300;
  const stores: Store[] = [];
  try {
    for (const size of sizes) stores.push(await storeWith(size));
    log(`stored ${sizes.join(' / ')} actors; ${rounds} rounds of one spawn per size and layout`);
    const times = new Map<string, number[]>();
    const add = (key: string, ms: number) => (times.get(key) ?? times.set(key, []).get(key)!).push(ms);
    // Warm-up: JIT, SQLite's page cache, the first read of every index list.
    for (let i = 0; i < 10; i++) for (const s of stores) await spawnOne(s, false);
    // The layouts one after the other (the whole index's large writes would slow the next
    // commits of any store: WAL growth, checkpoints), the sizes in a rotating order.
    for (const wholeIndex of [false, true]) {
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < stores.length; i++) {
          const s = stores[(r + i) % stores.length]!;
          add(`${wholeIndex ? 'whole' : 'lists'} ${s.size}`, await spawnOne(s, wholeIndex));
        }
      }
    }
    // A start: every actor read back (the index lists, then the records in reads of 500).
    const loadMs = new Map<number, number>();
    for (const s of stores) {
      const reopened = await openPersistence(s.persistence.url);
      try {
        const t0 = nowMs();
        const loaded = await reopened.loadActors();
        loadMs.set(s.size, nowMs() - t0);
        if (loaded.size !== s.addresses.length + 1) throw new Error(`loaded ${loaded.size} actors of ${s.addresses.length + 1}`);
      } finally {
        await reopened.close();
      }
    }
    const perActorUs = (size: number) => (loadMs.get(size)! * 1000) / size;
    log(`load every actor: ${sizes.map((n) => `${n}: ${loadMs.get(n)!.toFixed(0)} ms`).join(', ')}`);
    const p50 = (key: string) => median(times.get(key)!);
    const p99 = (key: string) => percentile(times.get(key)!, 99);
    for (const size of sizes) log(`${size}: lists p50 ${p50(`lists ${size}`).toFixed(2)} ms p99 ${p99(`lists ${size}`).toFixed(2)} ms; whole index p50 ${p50(`whole ${size}`).toFixed(2)} ms`);
    const B = 'actor index: commit of one more actor (SQLite, synchronous=FULL)';
    const flat = `target ≤ 1.2×: the spawn rewrites its record and one of 1,024 index lists (~n/1,024 addresses); p50 of ${rounds} spawns per size, the sizes interleaved round by round in a rotating order`;
    const whole = 'the same spawn plus one value of every address in the same transaction: what the previous layout (one actors:index list) wrote on every spawn and stop';
    return [
      row(B, '10,000 actors stored, p50', p50('lists 10000'), 'ms', '1,000 actors stored, p50', p50('lists 1000'), flat),
      row(B, '50,000 actors stored, p50', p50('lists 50000'), 'ms', '1,000 actors stored, p50', p50('lists 1000'), flat),
      row(B, '50,000 actors stored, p99', p99('lists 50000'), 'ms', '1,000 actors stored, p99', p99('lists 1000'), 'one fsync per commit; the p99 is the disk’s'),
      row(B, '50,000 actors stored, p50', p50('lists 50000'), 'ms', 'whole index rewritten, 50,000 actors, p50', p50('whole 50000'), whole),
      row(B, '1,000 actors stored, p50', p50('lists 1000'), 'ms', 'whole index rewritten, 1,000 actors, p50', p50('whole 1000'), whole),
      row(
        'actor index: a start reads every actor back (SQLite)',
        `per actor, 50,000 stored (${Math.round(loadMs.get(50_000)!).toLocaleString('en-US')} ms)`,
        perActorUs(50_000),
        'µs',
        `per actor, 1,000 stored (${Math.round(loadMs.get(1_000)!).toLocaleString('en-US')} ms)`,
        perActorUs(1_000),
        'one run each: the index lists in one read, the records in reads of 500 keys (@keyv/sqlite matches each key of a read against every row it returned: one read of all 50,000 took 9.3 s)',
      ),
    ];
  } finally {
    for (const s of stores) {
      await s.persistence.close();
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
}
