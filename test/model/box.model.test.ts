import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isDomainError } from '../../actors/domain/errors.js';
import type { CompartmentCtx } from '../../actors/compartment.js';
import type { PickupStatus } from '../../actors/pickup.js';
import { demoCompartments } from '../../src/config.js';
import { BIRTH, lastPin, testBox, wrongPin, type TestBox } from '../helpers.js';
import { credentialDrift } from '../support/credentials.js';
import { projectionDrift } from '../support/projection.js';
import { seeded } from '../support/random.js';

/**
 * Model-based tests of the whole box: fast-check draws random interleavings of registrations,
 * loads, panel inputs, door events, lock faults, actor crashes and clock jumps; after every step
 * the box's invariants must hold, and in the end every pickup must have found its way out.
 *
 * CI runs MODEL_RUNS sequences (default 300); `npm run soak:model` runs 10,000. The seed is
 * printed; MODEL_SEED=<seed> replays a run exactly (the box runs on the simulated clock, PINs come
 * from a seeded generator), MODEL_PATH=<path> from the report replays only the failing sequence.
 */

const RUNS = Number(process.env.MODEL_RUNS ?? 300);
const SEED = Number(process.env.MODEL_SEED ?? Date.now() % 2_147_483_647);
/** fast-check's path of a failure (from its report): with MODEL_SEED, replays just that sequence */
const PATH = process.env.MODEL_PATH;
const REFERENCES = ['V-M-1', 'V-M-2', 'V-M-3'] as const;
const PHONES = ['+4915228817386', '+4915228817387', '+4915228817388'] as const;
const KIOSKS = ['1', '2'] as const;
const MAX_FAILED = 5;

interface Model {
  registered: Set<number>;
  /** PINs the citizens received, by pickup index */
  pins: Map<number, string>;
  /** unlocks the box may make: one per load, retrieval or session that reached `opening` */
  permits: number;
}

interface Real {
  t: TestBox;
  sessions: Map<string, string>;
}

const LIVE: readonly PickupStatus[] = ['LOADING', 'READY', 'RELEASING', 'LOCKED', 'EXPIRED'];
/** statuses in which the document lies in its compartment */
const HELD: readonly PickupStatus[] = ['READY', 'LOCKED', 'EXPIRED', 'CANCELLED'];

function checkInvariants(m: Model, r: Real, after: string): void {
  const { box, hw } = r.t;
  const pickups = box.pickups();
  // No compartment holds two pickups.
  const holders = new Map<string, string>();
  for (const p of pickups) {
    if (!LIVE.includes(p.status) || !p.compartmentId) continue;
    assert.not.ok(holders.has(p.compartmentId), `${after}: ${p.compartmentId} holds ${holders.get(p.compartmentId)} and ${p.reference}`);
    holders.set(p.compartmentId, p.reference);
  }
  // Counters stay within their limits, and a pickup at the limit is locked.
  for (const p of pickups) {
    assert.ok(p.failedAttempts <= MAX_FAILED, `${after}: ${p.reference} has ${p.failedAttempts} failed attempts`);
    if (p.failedAttempts >= MAX_FAILED && (p.status === 'READY' || p.status === 'RELEASING')) assert.unreachable(`${after}: ${p.reference} at the limit is ${p.status}`);
  }
  // At most one opening per authentication (or staff action): every pulse had a permit.
  assert.ok(hw.locks.pulses.length <= m.permits, `${after}: ${hw.locks.pulses.length} pulses for ${m.permits} permits`);
  // One session at a time per panel, and no answer is still owed by a session that is not checking.
  for (const k of KIOSKS) {
    const running = box.snapshot().sessions.filter((s) => s.kioskId === k && s.step !== 'done');
    assert.ok(running.length <= 1, `${after}: kiosk ${k} runs ${running.length} sessions`);
  }
  // The registry and the compartments agree on what lies where, once no unlock is under way.
  const live = new Map(pickups.filter((p) => p.endedAt === null).map((p) => [p.id, p]));
  for (const c of box.config.compartments) {
    const actor = box.supervisor.view<CompartmentCtx>(`compartment/${c.id}`)!.ctx;
    if (actor.state !== 'free' && actor.state !== 'occupied') continue;
    if (actor.pickupId !== null) {
      assert.is(live.get(actor.pickupId)?.compartmentId, c.id, `${after}: ${c.id} holds ${actor.pickupId}, which the registry does not have in it`);
    }
    for (const p of live.values()) {
      if (p.compartmentId !== c.id || p.opId !== null || !HELD.includes(p.status)) continue;
      assert.is(actor.pickupId, p.id, `${after}: the pickups record ${p.reference} (${p.status}) in ${c.id}, the compartment holds ${actor.pickupId ?? 'nothing'}`);
    }
  }
  // What readers see of the pickups (the projection fed by the registry's events) is the registry's table.
  assert.equal(projectionDrift(box), [], `${after}: the pickups projection drifted from the registry`);
  // The auth actor holds a PIN hash for exactly the live PINs of the registry, of their serial.
  assert.equal(credentialDrift(box), [], `${after}: the auth actor's credentials drifted from the registry's PINs`);
  assert.is(box.supervisor.pendingAsks, 0, `${after}: an ask is still open`);
  assert.equal(box.failures(), [], `${after}: an actor failed`);
}

const step = (name: string, run: (m: Model, r: Real) => Promise<void>, check: (m: Readonly<Model>) => boolean = () => true): fc.AsyncCommand<Model, Real> => ({
  check,
  async run(m, r) {
    try {
      await run(m, r);
      await r.t.box.idle();
      checkInvariants(m, r, name);
    } catch (error) {
      throw new Error(`${name}: ${describeFailure(error)}`);
    }
  },
  toString: () => name,
});

/** What failed, with uvu's actual and expected values: fast-check's report shows only the message. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const a = error as Error & { actual?: unknown; expects?: unknown };
  return 'actual' in a ? `${a.message} (actual ${JSON.stringify(a.actual)}, expected ${JSON.stringify(a.expects)})` : a.message;
}

/** A box call that may be refused with a catalog code; anything else is a bug. */
async function tolerated<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    if (isDomainError(error)) return undefined;
    throw error;
  }
}

const index = fc.integer({ min: 0, max: REFERENCES.length - 1 });
const kiosk = fc.constantFrom(...KIOSKS);

const commands = [
  index.map((i) =>
    step(
      `register ${i}`,
      async (m, r) => {
        await r.t.box.registerPickup({ reference: REFERENCES[i]!, documentKind: 'ID_CARD', phone: PHONES[i]!, birthDate: BIRTH, oldDocumentNumber: null });
        m.registered.add(i);
      },
      (m) => !m.registered.has(i),
    ),
  ),
  index.map((i) =>
    step(`load ${i}`, async (m, r) => {
      if (!m.registered.has(i)) {
        await r.t.box.registerPickup({ reference: REFERENCES[i]!, documentKind: 'ID_CARD', phone: PHONES[i]!, birthDate: BIRTH, oldDocumentNumber: null });
        m.registered.add(i);
      }
      const loaded = await tolerated(r.t.box.loadPickup(REFERENCES[i]!, 'staff-anna'));
      if (!loaded) return;
      m.permits++;
      await r.t.box.idle();
      if (r.t.hw.locks.openDoor(loaded.compartmentId)) {
        await r.t.box.idle();
        r.t.hw.locks.closeDoor(loaded.compartmentId);
      }
      await r.t.box.idle();
      if (r.t.box.pickup(REFERENCES[i]!)?.status === 'READY') m.pins.set(i, lastPin(r.t, PHONES[i]));
    }),
  ),
  index.map((i) =>
    step(`retrieve ${i}`, async (m, r) => {
      if (await tolerated(r.t.box.retrievePickup(REFERENCES[i]!, 'staff-anna'))) m.permits++;
    }),
  ),
  index.map((i) => step(`reissue ${i}`, async (m, r) => {
    if (!(await tolerated(r.t.box.reissuePin(REFERENCES[i]!, 'staff-anna')))) return;
    await r.t.box.idle();
    m.pins.set(i, lastPin(r.t, PHONES[i]));
  })),
  fc.tuple(kiosk, index, fc.boolean(), fc.boolean(), fc.boolean()).map(([k, i, rightPin, rightBirthDate, takes]) =>
    step(`session at ${k} for ${i} (pin ${rightPin ? 'right' : 'wrong'}, birth date ${rightBirthDate ? 'right' : 'wrong'}${takes ? ', takes it' : ''})`, async (m, r) => {
      const before = r.sessions.get(k);
      if (before) await tolerated(r.t.box.sessionInput(before, { type: 'cancel' }));
      const started = await tolerated(r.t.box.startSession(k));
      if (!started) return;
      const { sessionId } = started;
      r.sessions.set(k, sessionId);
      await r.t.box.sessionInput(sessionId, { type: 'phone', phone: PHONES[i]! });
      const pin = m.pins.get(i) ?? '123456';
      const afterPin = await r.t.box.sessionInput(sessionId, { type: 'pin', pin: rightPin ? pin : wrongPin(pin) });
      assert.not.equal(afterPin.step, 'checkingPin', 'answered only after the check');
      if (!rightPin || !m.pins.has(i)) {
        assert.ok(['phone', 'done'].includes(afterPin.step), `a wrong PIN never passes (step ${afterPin.step})`);
        return;
      }
      if (afterPin.step !== 'factor' && afterPin.step !== 'birthDate') return;
      if (afterPin.step === 'factor') await r.t.box.sessionInput(sessionId, { type: 'factor', factor: 'birthDate' });
      const afterBirth = await r.t.box.sessionInput(sessionId, { type: 'birthDate', birthDate: rightBirthDate ? '12.04.1980' : '01.01.1981' });
      if (!rightBirthDate) assert.not.equal(afterBirth.step, 'opening', 'a wrong birth date never opens');
      if (afterBirth.step !== 'opening') return;
      m.permits++;
      assert.ok(afterBirth.compartmentId, 'the answer names the compartment that opens');
      if (!takes) return;
      await r.t.box.idle();
      if (r.t.hw.locks.openDoor(afterBirth.compartmentId!)) {
        await r.t.box.idle();
        r.t.hw.locks.closeDoor(afterBirth.compartmentId!);
        await r.t.box.idle();
        assert.is(r.t.box.pickup(REFERENCES[i]!)!.status, 'COLLECTED', 'the citizen took it: the pickup is collected');
      }
    }),
  ),
  fc.tuple(kiosk, fc.constantFrom('cancel', 'phone')).map(([k, what]) =>
    step(`panel ${k}: ${what}`, async (_m, r) => {
      const id = r.sessions.get(k);
      if (!id) return;
      await tolerated(r.t.box.sessionInput(id, what === 'cancel' ? { type: 'cancel' } : { type: 'phone', phone: PHONES[0] }));
    }),
  ),
  fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()).map(([c, open]) =>
    step(`door A0${c + 1} ${open ? 'pulled open' : 'pushed shut'}`, async (_m, r) => {
      const id = `A0${c + 1}`;
      if (open) r.t.hw.locks.openDoor(id);
      else r.t.hw.locks.closeDoor(id);
    }),
  ),
  fc.integer({ min: 0, max: 5 }).map((c) =>
    step(`lock A0${c + 1} fails once`, async (_m, r) => {
      r.t.hw.locks.failLock(`A0${c + 1}`, 'I2C_NACK');
      await r.t.box.advance(1);
      r.t.hw.locks.failLock(`A0${c + 1}`, null);
    }),
  ),
  fc.integer({ min: 0, max: 5 }).map((c) =>
    step(`crash of compartment A0${c + 1}`, async (_m, r) => {
      // A handler bug, once (an unlock without a cause throws): the compartment restarts from its
      // committed state and reconciles with its door sensor; well below the restart intensity.
      r.t.box.supervisor.post(`compartment/A0${c + 1}`, { type: 'unlock', opId: 'bug', purpose: 'service', pickupId: null, cause: null });
    }),
  ),
  fc.constantFrom(1_000, 31_000, 61_000, 3_600_000, 3 * 86_400_000).map((ms) => step(`${ms} ms pass`, (_m, r) => r.t.box.advance(ms))),
];

/** Six-digit PINs from the seeded generator (test/support/random.ts): its raw 32 bits modulo 10^6. */
function seededPins(seed: number): () => string {
  const next = seeded(seed);
  return () => String(Math.floor(next() * 4294967296) % 1_000_000).padStart(6, '0');
}

const seen = new Map<string, number>();

/** Loads and sessions are drawn more often than the rest, so that pickups get through to the door. */
const [, load, , , session] = commands;
const drawn = [...commands, load!, load!, session!, session!, session!];

test(`random days at the box keep the invariants (${RUNS} sequences, seed ${SEED})`, async () => {
  console.log(`model: ${RUNS} sequences, MODEL_SEED=${SEED}`);
  await fc.assert(
    fc.asyncProperty(fc.commands(drawn, { maxCommands: 25 }), fc.integer({ min: 1, max: 0x7fffffff }), async (cmds, pinSeed) => {
      // PINs come from a seeded generator too, so that a seed replays the run exactly.
      const t = await testBox(
        { compartments: demoCompartments(6), kiosks: [...KIOSKS], maxFailedAttempts: MAX_FAILED, restartIntensity: { max: 1_000 } },
        { generatePin: seededPins(pinSeed) },
      );
      const real: Real = { t, sessions: new Map() };
      try {
        await fc.asyncModelRun(() => ({ model: { registered: new Set<number>(), pins: new Map<number, string>(), permits: 0 }, real }), cmds);
        for (const p of t.box.pickups()) seen.set(`before:${p.status}`, (seen.get(`before:${p.status}`) ?? 0) + 1);
        seen.set('pulses', (seen.get('pulses') ?? 0) + t.hw.locks.pulses.length);
        // Every pickup has a way out: after the window, nothing is left waiting halfway.
        for (const id of t.box.compartments().map((c) => c.id)) t.hw.locks.closeDoor(id);
        await t.box.advance(12 * 86_400_000);
        for (const p of t.box.pickups()) {
          assert.ok(!['LOADING', 'READY', 'RELEASING'].includes(p.status), `${p.reference} is still ${p.status} after the window`);
        }
        assert.equal(t.box.snapshot().sessions.filter((s) => s.step !== 'done'), [], 'every session ended');
      } finally {
        await t.box.close();
      }
    }),
    { numRuns: RUNS, seed: SEED, ...(PATH ? { path: PATH } : {}), includeErrorInReport: true },
  );
  if (process.env.MODEL_STATS) console.log(Object.fromEntries(seen));
});

test.run();
