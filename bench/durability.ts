/**
 * Durability: the latency of one journal step — `saveActor` of a compartment's committed state
 * (the unlock intent) and `appendAudit` of its audit record — on an SQLite file with WAL and
 * synchronous=FULL (src/persistence/keyv-persistence.ts), against the same writes on `memory:`.
 * Then pickups registered per second through GraphQL (integration `registerPickup`, autocannon in
 * a second process, sequential and 8 at a time) on SQLite against the same on `memory:`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBox } from '../src/box.js';
import { demoCompartments } from '../src/config.js';
import { openPersistence, type Persistence } from '../src/persistence/keyv-persistence.js';
import { createServer } from '../src/server/index.js';
import { autocannon, median, nowMs, percentile, row, TOKENS, type BenchContext, type CannonResult, type Row } from './lib.js';

interface JournalTimes {
  save: number[];
  audit: number[];
  step: number[];
}

async function journal(p: Persistence, n: number): Promise<JournalTimes> {
  const t: JournalTimes = { save: [], audit: [], step: [] };
  for (let i = -10; i < n; i++) {
    const ctx = {
      id: 'A001', size: 'S', accessible: false, state: 'unlocking', pickupId: `p${i}`, door: 'closed', lock: 'locked',
      op: { id: `op-${i}`, purpose: 'collect', pickupId: `p${i}`, cause: { kind: 'session', sessionId: `s${i}` }, requestedAt: 1_700_000_000_000 + i, pulsedAt: null },
      resumeTo: 'occupied', fault: null, service: null, doorOpenedAt: null, doorAlarm: false, silentUnlocks: 0,
    };
    const t0 = nowMs();
    await p.saveActor('compartment/A001', { kind: 'compartment', ctx, timers: [], status: 'active' });
    const t1 = nowMs();
    await p.appendAudit({ action: 'unlock.intent', actor: 'session/s', subject: `V-${i}`, detail: { compartment: 'A001', op: `op-${i}` }, at: 1_700_000_000_000 + i, by: 'compartment/A001', causation: null });
    const t2 = nowMs();
    if (i < 0) continue; // warm-up
    t.save.push(t1 - t0);
    t.audit.push(t2 - t1);
    t.step.push(t2 - t0);
  }
  return t;
}

const REGISTER = (ref: string) =>
  JSON.stringify({
    query: 'mutation($input: RegisterPickupInput!) { registerPickup(input: $input) { reference status } }',
    variables: { input: { reference: ref, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: '1980-04-12' } },
  });

/** Registrations per second on a fresh box over `storage`, sequential then 8 at a time. */
async function registrations(storage: string, seconds: number): Promise<{ seq: CannonResult; par: CannonResult }> {
  const box = await createBox({ storage, compartments: demoCompartments(48), hardware: 'simulated', hoursPreset: 'always' });
  const server = createServer(box, { tokens: TOKENS, engine: 'yoga', logError: () => {} });
  const { url } = await server.listen(0, '127.0.0.1');
  try {
    const before = box.pickups().length;
    // Duration runs: autocannon's `amount` mode ends on its 1 s sample tick, which skews short runs.
    const seq = await autocannon({ url, token: TOKENS.integration, body: REGISTER('V-S-[<n>]'), connections: 1, duration: seconds });
    const par = await autocannon({ url, token: TOKENS.integration, body: REGISTER('V-P-[<n>]'), connections: 8, duration: seconds });
    const registered = box.pickups().length - before;
    // Requests cut off at the end of a run may still have registered; every answered one must have.
    if (registered < seq.total + par.total || seq.non2xx || par.non2xx || seq.errors || par.errors) {
      throw new Error(`${storage}: ${registered} registered for ${seq.total + par.total} answers (${seq.non2xx + par.non2xx} non-2xx, ${seq.errors + par.errors} errors)`);
    }
    return { seq, par };
  } finally {
    await server.close();
    await box.close();
  }
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-bench-'));
  try {
    const n = quick ? 100 : 500;
    const sqlite = await openPersistence(`sqlite://${join(dir, 'journal.sqlite')}`);
    const durable = await journal(sqlite, n);
    await sqlite.close();
    const mem = await openPersistence('memory:');
    const memory = await journal(mem, n);
    await mem.close();
    log(`journal step p50/p99: sqlite ${median(durable.step).toFixed(3)}/${percentile(durable.step, 99).toFixed(3)} ms, memory ${median(memory.step).toFixed(3)}/${percentile(memory.step, 99).toFixed(3)} ms`);

    const seconds = quick ? 1 : 3;
    const onDisk = await registrations(`sqlite://${join(dir, 'box.sqlite')}`, seconds);
    const inMemory = await registrations('memory:', seconds);
    log(`registerPickup/s sqlite: ${onDisk.seq.requestsPerSec.toFixed(0)} sequential, ${onDisk.par.requestsPerSec.toFixed(0)} at 8; memory: ${inMemory.seq.requestsPerSec.toFixed(0)}, ${inMemory.par.requestsPerSec.toFixed(0)}`);

    const J = 'durability: journal write';
    const MEM = 'same writes on memory:';
    const fsync = 'each commit is one SQLite transaction with WAL + synchronous=FULL: an fsync of the WAL per commit';
    const R = 'durability: registerPickup via GraphQL';
    const RM = 'same on memory: storage';
    const regNote = 'each registration commits the new pickup row, the reference index and its audit record; autocannon in a 2nd process';
    return [
      row(J, 'saveActor + appendAudit, p50', median(durable.step), 'ms', MEM, median(memory.step), fsync),
      row(J, 'saveActor + appendAudit, p99', percentile(durable.step, 99), 'ms', MEM, percentile(memory.step, 99), 'saveActor and appendAudit are one transaction each (the audit record and head together): two fsyncs per journal step'),
      row(J, 'saveActor alone, p50', median(durable.save), 'ms', MEM, median(memory.save), `${n} steps on a temp-dir file`),
      row(R, `sequential, SQLite (${seconds} s)`, onDisk.seq.requestsPerSec, 'pickups/s', RM, inMemory.seq.requestsPerSec, regNote),
      row(R, `8 concurrent, SQLite (${seconds} s)`, onDisk.par.requestsPerSec, 'pickups/s', RM, inMemory.par.requestsPerSec, 'one registry actor serialises registrations; this run follows the sequential one, so the registry already holds its pickups'),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
