import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CompartmentCtx } from '../../actors/compartment.js';
import type { OutboxCtx } from '../../actors/outbox.js';
import type { ActorRecord } from '../../actors/runtime/types.js';
import { createBox } from '../../src/box.js';
import { demoCompartments } from '../../src/config.js';
import { auditHash, openPersistence } from '../../src/persistence/keyv-persistence.js';
import { storedPickups } from '../support/committed.js';

// Seeded runs of pickup flows in a child process, killed with SIGKILL at random moments and at
// chosen points around lock pulses, then restarted on the same SQLite file. After every run the
// store must hold every acknowledged pickup once, every physical unlock must have a journaled
// intent with a cause, no authentication may open twice, and counters, outbox and audit chain
// must be intact.

interface Run {
  lines: string[];
  readyMs: number | null;
}

function runChild(storage: string, seed: number, pulseLog: string, kill: { afterMs?: number; crashAt?: string }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'child.ts'), storage, String(seed), pulseLog], {
      env: { ...process.env, CRASH_AT: kill.crashAt ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let readyMs: number | null = null;
    let buffer = '';
    let timer: NodeJS.Timeout | null = null;
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith('ready ')) {
          readyMs = Number(line.slice(6));
          // Random kills are timed from the moment the box is ready.
          if (kill.afterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), kill.afterMs);
        }
      }
    });
    child.stderr.on('data', () => {});
    // A targeted crash that never comes (too few pulses) is ended by the parent all the same.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', () => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      resolve({ lines, readyMs });
    });
  });
}

test('SIGKILL at random points and around lock pulses loses no pickup and never opens twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-crash-'));
  const storage = `sqlite://${join(dir, 'box.sqlite')}`;
  const pulseLog = join(dir, 'pulses.log');
  let state = 20_261_125;
  const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

  const plan: Array<{ afterMs?: number; crashAt?: string }> = [];
  for (let i = 0; i < 4; i++) plan.push({ crashAt: `before:${2 + Math.floor(random() * 4)}` });
  for (let i = 0; i < 4; i++) plan.push({ crashAt: `after:${2 + Math.floor(random() * 4)}` });
  for (let i = 0; i < 6; i++) plan.push({ afterMs: 40 + Math.floor(random() * 400) });

  const registered = new Set<string>();
  const readyTimes: number[] = [];
  let kills = 0;
  for (const [i, kill] of plan.entries()) {
    const run = await runChild(storage, 1000 + i, pulseLog, kill);
    kills++;
    if (run.readyMs !== null) readyTimes.push(run.readyMs);
    for (const line of run.lines) if (line.startsWith('registered ')) registered.add(line.slice(11));
  }

  // One last start that is not killed: recovery runs to the end, then the store is examined.
  const box = await createBox({ storage, compartments: demoCompartments(48), hoursPreset: 'always', pinKey: 'crash-test-key-0123456789abcdef-0123456789' });
  await box.idle();
  await box.close();

  const persistence = await openPersistence(storage);
  const actors = await persistence.loadActors();
  const { pickups } = storedPickups(actors);
  const audit = await persistence.readAudit(1, 1_000_000);
  const outbox = (actors.get('outbox') as ActorRecord<OutboxCtx>).ctx;
  await persistence.close();

  // No pickup lost or duplicated.
  const references = Object.values(pickups).map((p) => p.reference);
  for (const r of registered) assert.ok(references.includes(r), `acknowledged pickup ${r} is in the store`);
  assert.is(new Set(references).size, references.length, 'no reference twice');

  // Every physical unlock has a journaled intent with a cause, and no intent was pulsed twice.
  const pulses = existsSync(pulseLog) ? readFileSync(pulseLog, 'utf8').trim().split('\n').filter(Boolean) : [];
  const intents = audit.filter((a) => a.action === 'unlock.intent');
  assert.ok(intents.every((a) => /^(session|staff):/.test(String(a.detail?.cause))), 'every intent names its cause');
  const perCompartment = (list: string[]) => list.reduce((m, c) => m.set(c, (m.get(c) ?? 0) + 1), new Map<string, number>());
  const pulsed = perCompartment(pulses);
  const intended = perCompartment(intents.map((a) => String(a.subject)));
  for (const [c, n] of pulsed) assert.ok(n <= (intended.get(c) ?? 0), `compartment ${c}: ${n} pulses, ${intended.get(c) ?? 0} intents`);

  // No compartment opened twice for one authentication.
  const collectIntentsPerSession = perCompartment(intents.map((a) => String(a.detail?.cause)).filter((c) => c.startsWith('session:')));
  for (const [session, n] of collectIntentsPerSession) assert.is(n, 1, `${session} unlocked once`);
  const opened = perCompartment(audit.filter((a) => a.action === 'door.opened').map((a) => String(a.detail?.op)));
  for (const [op, n] of opened) assert.is(n, 1, `operation ${op} opened once`);

  // Collected pickups are not in a compartment any more; every occupied compartment holds a live pickup.
  for (const [address, record] of actors) {
    if (!address.startsWith('compartment/')) continue;
    const c = (record as ActorRecord<CompartmentCtx>).ctx;
    if (c.pickupId) {
      const status = pickups[c.pickupId]!.status;
      assert.ok(['LOADING', 'READY', 'RELEASING', 'LOCKED', 'EXPIRED', 'CANCELLED'].includes(status), `${c.id} (${c.state}) holds ${c.pickupId}, which is ${status}`);
    }
  }
  // Counters never exceed their limit and the audit chain is unbroken.
  assert.ok(Object.values(pickups).every((p) => p.failedAttempts <= 5));
  for (let i = 1; i < audit.length; i++) {
    assert.is(audit[i]!.prevHash, audit[i - 1]!.hash, `audit record ${audit[i]!.seq} links to its predecessor`);
    const { hash, prevHash, ...entry } = audit[i]!;
    assert.is(auditHash(prevHash, entry), hash, `audit record ${audit[i]!.seq} is unaltered`);
  }
  // The outbox holds only messages still to be sent, each once.
  assert.is(new Set(Object.keys(outbox.pending)).size, Object.keys(outbox.pending).length);

  const sorted = [...readyTimes].sort((a, b) => a - b);
  console.log(
    `    crash test: survived ${kills} SIGKILLs (${plan.filter((p) => p.crashAt?.startsWith('before')).length} before a pulse, ` +
      `${plan.filter((p) => p.crashAt?.startsWith('after')).length} after a pulse, ${plan.filter((p) => p.afterMs).length} at random); ` +
      `${registered.size} pickups registered, ${pulses.length} pulses, ${intents.length} journaled intents; ` +
      `restart to ready p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms`,
  );
  rmSync(dir, { recursive: true, force: true });
});

test.run();
