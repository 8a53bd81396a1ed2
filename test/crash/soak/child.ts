/**
 * One box process of the crash soak (`npm run soak`): started on the soak's SQLite file and
 * physical world, it recovers, checks what recovery left, then drives seeded pickup flows from
 * two kiosks and staff until it dies at its kill point — or the runner kills it.
 *
 *   node --import tsx test/crash/soak/child.ts DIR RUN SEED KIND N
 *
 * Kill points (KIND, the Nth occurrence in this process): `commit-before` (every statement of a
 * group commit ran, the SQLite COMMIT did not), `commit-after` (right after COMMIT returned),
 * `statement` (before any SQL statement: reads, claims, writes inside a transaction),
 * `pulse-before` / `pulse-after` (around a lock pulse), `sms-before` / `sms-after` (around the
 * gateway call), `timer` (the runner kills at N ms after ready).
 */
import { join } from 'node:path';
import { SimulatedClock } from '../../../actors/runtime/clock.js';
import { createBox, simulatedHardware, type Box } from '../../../src/box.js';
import { resolveConfig } from '../../../src/config.js';
import { openPersistence } from '../../../src/persistence/keyv-persistence.js';
import type { PickupRow } from '../../../actors/pickup.js';
import type { AllocationCtx } from '../../../actors/allocation.js';
import type { GatedStore } from '../../../src/persistence/sqlite-connection.js';
import { clearFaults } from './staff.js';
import { committedPickups } from '../../support/committed.js';
import { credentialDrift } from '../../support/credentials.js';
import { apply, Ledger, loadWorld, phoneOf, seeded, SOAK_BIRTH, SOAK_DAY_MS, SOAK_KIOSKS, soakConfig, type KillKind, type LedgerBody } from './world.js';

const [dir, runText, seedText, kind, nText] = process.argv.slice(2) as [string, string, string, KillKind, string];
const run = Number(runText);
const killAt = Number(nText);
const started = performance.now();
const world = loadWorld(join(dir, 'world.json'));
const clock = new SimulatedClock(world.now);
const ledger = new Ledger(join(dir, 'ledger.log'), run, () => clock.now());
const random = seeded(Number(seedText));

/** Appends to the ledger (fsynced) and to this process' picture of the world. */
const record = (body: LedgerBody): void => {
  ledger.append(body);
  apply(world, { ...body, t: clock.now(), run } as never);
};
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};
const seen = { statement: 0, commit: 0, pulse: 0, sms: 0 };
const at = (k: KillKind, count: number) => kind === k && count === killAt;

record({ k: 'start' });
const storage = `sqlite://${join(dir, 'box.sqlite')}`;
const persistence = await openPersistence(storage);
// The kill points inside storage: every SQL statement of the adapter goes through its `query`.
const store = (persistence.kv.store as GatedStore).connection as unknown as { query: (sql: string, ...args: unknown[]) => Promise<unknown> };
const query = store.query.bind(store);
store.query = async (sql: string, ...args: unknown[]) => {
  if (at('statement', ++seen.statement)) die();
  const commit = sql.trim().toUpperCase() === 'COMMIT';
  if (commit && at('commit-before', ++seen.commit)) die();
  const result = await query(sql, ...args);
  if (commit && at('commit-after', seen.commit)) die();
  return result;
};

const input = soakConfig(storage);
const hw = simulatedHardware(resolveConfig(input), clock);
// Doors a person left open while the box was down are open when it starts.
for (const [c, door] of Object.entries(world.doors)) if (door === 'open') hw.locks.forceDoor(c);
const pulse = hw.locks.pulse.bind(hw.locks);
hw.locks.pulse = async (c: string) => {
  if (at('pulse-before', ++seen.pulse)) die();
  record({ k: 'pulse', c }); // durable before the latch moves
  await pulse(c);
  if (at('pulse-after', seen.pulse)) die();
};
const send = hw.sms.send.bind(hw.sms);
hw.sms.send = async (message) => {
  if (at('sms-before', ++seen.sms)) die();
  const sent = await send(message);
  record({ k: 'sms', id: message.id, to: message.to, pin: /PIN: (\d{6})/.exec(message.text)?.[1] ?? null });
  if (at('sms-after', seen.sms)) die();
  return sent;
};

const box: Box = await createBox(input, { clock, hardware: hw, persistence });
record({ k: 'ready', ms: Math.round(performance.now() - started) });
process.stdout.write('ready\n');

const codeOf = (error: unknown): string => String((error as { code?: unknown })?.code ?? (error as Error)?.message ?? error);
const idle = () => box.idle();

/**
 * Every request waits for its own answer while time passes for the person waiting: on the
 * simulated clock an answer that never comes would otherwise hang the process. A request the
 * box leaves unanswered until its ask times out is written down.
 */
async function answered<T>(what: string, request: Promise<T>): Promise<T> {
  let done = false;
  request.then(
    () => (done = true),
    (error: unknown) => {
      done = true;
      if (codeOf(error) === 'ASK_TIMEOUT') record({ k: 'unanswered', what });
    },
  );
  while (!done) {
    await idle();
    await new Promise((resolve) => setImmediate(resolve));
    if (!done) await box.advance(1_000);
  }
  return request;
}
for (const name of ['registerPickup', 'loadPickup', 'retrievePickup', 'cancelPickup', 'reissuePin', 'startSession', 'sessionInput', 'clearCompartmentFault'] as const) {
  const call = (box[name] as (...args: unknown[]) => Promise<unknown>).bind(box);
  (box as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => answered(name, call(...args));
}

// --- the people at the box --------------------------------------------------------------------

/**
 * A person opens the door of `c` if the latch lets them and at once puts a document in or takes
 * everything out: the box cannot see a hand, so a door that opened is a document moved.
 */
function openDoor(c: string, hand: { put: string } | { take: { by: 'citizen' | 'staff'; want: string | null } }): boolean {
  if (hw.locks.latched(c) && hw.locks.door(c) === 'closed') return false;
  if ('put' in hand) record({ k: 'door', c, door: 'open', put: hand.put });
  else record({ k: 'door', c, door: 'open', take: { ...hand.take, got: world.contents[c] ?? [] } });
  return hw.locks.openDoor(c);
}
function closeDoor(c: string): void {
  if (hw.locks.door(c) === 'closed') return;
  record({ k: 'door', c, door: 'closed' });
  hw.locks.closeDoor(c);
}

/** A citizen at `kiosk`: number, PIN (theirs unless told), birth date; at the open door they take what lies inside. */
async function collect(p: PickupRow, kiosk: string, pin = world.pins[p.phone ?? '']): Promise<void> {
  if (!pin || !p.phone) return;
  const { sessionId } = await box.startSession(kiosk);
  await idle();
  const steps = [
    { type: 'phone', phone: p.phone },
    { type: 'pin', pin },
    { type: 'factor', factor: 'birthDate' },
    { type: 'birthDate', birthDate: SOAK_BIRTH },
  ] as const;
  for (const step of steps) {
    const s = box.session(sessionId);
    if (!s || s.step === 'done') break;
    if (step.type === 'factor' && s.step !== 'factor') continue;
    if (s.step !== step.type) break;
    try {
      await box.sessionInput(sessionId, step);
    } catch {
      break;
    }
    await idle();
  }
  const s = box.session(sessionId);
  if (s?.step === 'opening' && s.compartmentId) {
    await idle();
    const c = s.compartmentId;
    if (random() < 0.05 || !openDoor(c, { take: { by: 'citizen', want: p.reference } })) return; // walks away: the door window closes it again
    await idle();
    if (random() < 0.1) await box.advance(1_000 + Math.floor(random() * 3_000));
    closeDoor(c);
    await idle();
  } else if (s && s.step !== 'done' && random() < 0.6) {
    await box.sessionInput(sessionId, { type: 'cancel' }).catch(() => {});
  }
}

let registrations = 0;
async function register(): Promise<void> {
  // One number and one reference per registration of the whole soak (up to 1,000 per process).
  const number = run * 1_000 + (registrations++ % 1_000);
  const reference = `S${run}-${number % 1_000}`;
  const phone = phoneOf(number);
  await box.registerPickup({ reference, documentKind: 'ID_CARD', phone, birthDate: SOAK_BIRTH });
  record({ k: 'ack', op: 'register', ref: reference, phone });
}

async function load(p: PickupRow): Promise<void> {
  const { compartmentId: c } = await box.loadPickup(p.reference, 'staff-soak');
  record({ k: 'ack', op: 'load', ref: p.reference, c });
  await idle();
  if (random() < 0.05 || !openDoor(c, { put: p.reference })) return; // staff walks away: the load is aborted by the door window
  await idle();
  if (random() < 0.1) await box.advance(1_000 + Math.floor(random() * 3_000));
  closeDoor(c);
  await idle();
}

async function retrieve(p: PickupRow): Promise<void> {
  const { compartmentId: c } = await box.retrievePickup(p.reference, 'staff-soak');
  record({ k: 'ack', op: 'retrieve', ref: p.reference, c });
  await idle();
  if (!openDoor(c, { take: { by: 'staff', want: p.reference } })) return;
  await idle();
  closeDoor(c);
  await idle();
}

async function cancel(p: PickupRow): Promise<void> {
  await box.cancelPickup(p.reference, 'integration-soak');
  record({ k: 'ack', op: 'cancel', ref: p.reference });
}

async function reissue(p: PickupRow): Promise<void> {
  await box.reissuePin(p.reference, 'staff-soak');
  record({ k: 'ack', op: 'reissue', ref: p.reference });
}

// --- right after recovery: what must hold ------------------------------------------------------

await idle();
for (const [c, door] of Object.entries(world.doors)) if (door === 'open') closeDoor(c);
await idle();
await box.advance(40_000); // every door window that was running is over
/** Kiosks that refuse a new session now that every earlier session has run out. */
async function deadKiosks(): Promise<string[]> {
  const dead: string[] = [];
  for (const k of SOAK_KIOSKS) {
    try {
      const { sessionId } = await box.startSession(k);
      await idle();
      await box.sessionInput(sessionId, { type: 'cancel' });
    } catch (error) {
      dead.push(`${k}: ${codeOf(error)}`);
    }
  }
  await box.advance(6_000);
  return dead;
}
const deadAfterRecovery = await deadKiosks();
const pickups = committedPickups(box);
const allocation = box.supervisor.view<AllocationCtx>('allocation')!.ctx;
const stuck = box.pickups().filter((p) => p.status === 'LOADING' || p.status === 'RELEASING').map((p) => `${p.reference} ${p.status}`);
const lost: string[] = [];
for (const c of box.compartments()) {
  const slot = allocation.slots[c.id]!;
  const holder = slot.pickupId ? pickups[slot.pickupId] : undefined;
  if (c.state === 'unlocking' || (c.state === 'open' && c.door === 'closed')) lost.push(`${c.id} ${c.state} with the door ${c.door}`);
  else if (slot.pickupId && (!holder || holder.endedAt !== null) && !c.occupied && c.state === 'free') lost.push(`${c.id} reserved for ended pickup ${holder?.reference ?? slot.pickupId}`);
}
// The auth actor and the registry agree on which PINs live, whatever the kill interrupted.
record({ k: 'check', deadKiosks: deadAfterRecovery, stuck, lost, pins: credentialDrift(box) });
record({ k: 'clock' });

// --- seeded work until the kill ---------------------------------------------------------------

const live = (...statuses: string[]) => box.pickups().filter((p) => statuses.includes(p.status));
const any = <T>(xs: T[]): T | undefined => xs[Math.floor(random() * xs.length)];
const kiosk = () => SOAK_KIOSKS[Math.floor(random() * SOAK_KIOSKS.length)]!;
const wrongPin = (pin: string) => String((Number(pin) + 1) % 1_000_000).padStart(6, '0');

const runner = process.ppid;
for (;;) {
  // The runner is gone (stopped or killed): nobody will kill this process, so it ends itself.
  if (process.ppid !== runner) process.exit(0);
  const tasks: Array<Promise<unknown>> = [];
  const r = random();
  const registered = live('REGISTERED');
  const ready = live('READY').filter((p) => p.phone && world.pins[p.phone]);
  if ((registered.length < 2 || r < 0.15) && registered.length < 6) tasks.push(register());
  // A full box is emptied by staff rather than loaded: the work keeps moving.
  const full = !box.compartments().some((c) => c.state === 'free' && c.inService);
  const choose = (): Promise<unknown> | undefined => {
    const a = random();
    if (a < 0.3 && full) {
      const p = any(live('READY', 'EXPIRED', 'LOCKED', 'CANCELLED').filter((x) => x.compartmentId && x.endedAt === null));
      return p && retrieve(p);
    }
    if (a < 0.3) {
      const p = any(registered);
      return p && load(p);
    }
    if (a < 0.62) {
      const p = any(ready);
      return p && collect(p, kiosk(), random() < 0.1 ? wrongPin(world.pins[p.phone!]!) : undefined);
    }
    if (a < 0.72) {
      // Two kiosks race for one pickup with its PIN.
      const p = any(ready);
      return p && Promise.all([collect(p, 'k1').catch(() => {}), collect(p, 'k2').catch(() => {})]);
    }
    if (a < 0.8) {
      const p = any(live('READY', 'EXPIRED', 'LOCKED', 'CANCELLED').filter((x) => x.compartmentId && x.endedAt === null));
      return p && retrieve(p);
    }
    if (a < 0.86) {
      const p = any(live('REGISTERED', 'READY', 'LOCKED', 'EXPIRED', 'LOADING'));
      return p && cancel(p);
    }
    if (a < 0.92) {
      const p = any(live('READY', 'LOCKED'));
      return p && reissue(p);
    }
    if (a < 0.93) {
      // Staff answer the compartment alarms.
      return box.compartments().some((c) => c.fault) ? clearFaults(box, world.contents, (c, got) => record({ k: 'emptied', c, got })) : undefined;
    }
    if (a < 0.95) {
      // Somebody tries PINs for one number until the pickup locks.
      const p = any(ready);
      return p && (async () => {
        for (let i = 0; i < 5; i++) await collect(p, kiosk(), wrongPin(world.pins[p.phone!]!)).catch(() => {});
      })();
    }
    return undefined;
  };
  const first = choose();
  if (first) tasks.push(first);
  if (random() < 0.35) {
    const second = choose();
    if (second) tasks.push(second);
  }
  await Promise.all(tasks.map((t) => t.catch(() => {})));
  await idle();
  const t = random();
  if (t < 0.02) {
    // Every session and door window runs out: both kiosks must take a new session.
    await box.advance(70_000);
    const dead = await deadKiosks();
    if (dead.length) record({ k: 'check', deadKiosks: dead.map((d) => `${d} while running`), stuck: [], lost: [] });
  } else if (t < 0.04) await box.advance(31_000 + Math.floor(random() * 60_000)); // door windows and sessions run out
  else if (t < 0.06) await box.advance(Math.floor(SOAK_DAY_MS * (0.2 + random() * 0.8))); // reminders, expiry, purges
  else await box.advance(500 + Math.floor(random() * 3_000));
  if (t < 0.06) record({ k: 'clock' });
}
