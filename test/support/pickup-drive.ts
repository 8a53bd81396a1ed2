import { isDomainError } from '../../actors/domain/errors.js';
import { BIRTH, OLD_ID, wrongPin, type TestBox } from '../helpers.js';

/**
 * Random days at a box, as its people make them: integrations register and cancel, staff load,
 * retrieve and reissue, citizens at two panels type right and wrong PINs and birth dates, ask for a
 * new PIN, open doors or walk away, and time jumps past windows, expiries and purges. Every choice
 * comes from the seeded `rand`, so a seed replays the same day (with PINs from a seeded generator).
 */

const PHONES = ['+4915228817386', '+4915228817387', '+4915228817388'] as const;
const KIOSKS = ['1', '2'] as const;
const JUMPS = [1_000, 31_000, 61_000, 3_600_000, 3 * 86_400_000, 11 * 86_400_000] as const;

export interface Drive {
  t: TestBox;
  rand: () => number;
  /** references registered so far, with their numbers */
  registered: Array<{ reference: string; phone: string }>;
}

/** Six-digit PINs from a seeded generator, so that a seed replays the PINs the box sends too. */
export function seededPins(rand: () => number): () => string {
  return () => String(Math.floor(rand() * 1_000_000)).padStart(6, '0');
}

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

/** The code of the last refusal (for the step's story). */
let refusal = '';

/** A box call that may be refused with a catalog code; anything else is a bug. */
async function tolerated<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (error) {
    if (!isDomainError(error)) throw error;
    refusal = error.code;
    return undefined;
  }
}

/** The last PIN sent for the pickup, if any (its SMS ids are pin-<pickup>-<serial>). */
function pinOf(d: Drive, reference: string): string | undefined {
  const id = d.t.box.pickup(reference)?.id;
  const sms = id ? d.t.hw.sms.sent.filter((m) => m.id.startsWith(`pin-${id}-`)).at(-1) : undefined;
  return sms && /PIN: (\d{6})/.exec(sms.text)?.[1];
}

/** One of the recent registrations (ended ones drop out of the box; new ones keep coming). */
const someReference = (d: Drive) => (d.registered.length ? pick(d.rand, d.registered.slice(-8)) : undefined);

/** Mostly a pickup in one of `statuses` (where the action does something), sometimes any. */
function someIn(d: Drive, statuses: readonly string[]): { reference: string; phone: string } | undefined {
  const fitting = d.registered.filter((r) => statuses.includes(d.t.box.pickup(r.reference)?.status ?? ''));
  return fitting.length && d.rand() < 0.75 ? pick(d.rand, fitting) : someReference(d);
}

/** A person opens an unlocked door and closes it again, or walks away and lets it relatch. */
async function door(d: Drive, compartmentId: string): Promise<string> {
  if (d.rand() < 0.25) return 'walks away';
  // The panel says "opening" as the release starts; the latch lets go once the lock has pulsed.
  await d.t.box.idle();
  if (!d.t.hw.locks.openDoor(compartmentId)) return 'door stays shut';
  await d.t.box.idle();
  d.t.hw.locks.closeDoor(compartmentId);
  return 'door opened and closed';
}

async function session(d: Drive): Promise<string> {
  // Mostly a citizen whose document is ready; sometimes anyone (a wrong number, a locked pickup).
  const target = someIn(d, ['READY']);
  let kiosk = pick(d.rand, KIOSKS);
  let started = await tolerated(d.t.box.startSession(kiosk));
  if (!started && refusal === 'KIOSK_BUSY') {
    kiosk = KIOSKS.find((k) => k !== kiosk)!;
    started = await tolerated(d.t.box.startSession(kiosk));
  }
  if (!started || !target) return `panel ${kiosk}: no session ${started ? '' : refusal}`;
  const { sessionId } = started;
  const say = async (command: Parameters<TestBox['box']['sessionInput']>[1]) => tolerated(d.t.box.sessionInput(sessionId, command));
  let story = `panel ${kiosk} for ${target.reference}`;
  if (d.rand() < 0.15) {
    await say({ type: 'lostPin', phone: target.phone });
    story += ': asks for a new PIN';
  } else {
    await say({ type: 'phone', phone: target.phone });
    const known = pinOf(d, target.reference);
    const right = known !== undefined && d.rand() < 0.75;
    const afterPin = await say({ type: 'pin', pin: right ? known : wrongPin(known ?? '000000') });
    story += `: ${right ? 'right' : 'wrong'} PIN`;
    if (afterPin?.step === 'factor' || afterPin?.step === 'birthDate') {
      if (afterPin.step === 'factor') await say({ type: 'factor', factor: 'birthDate' });
      const rightBirth = d.rand() < 0.8;
      const afterBirth = await say({ type: 'birthDate', birthDate: rightBirth ? BIRTH : '1981-01-01' });
      story += `, ${rightBirth ? 'right' : 'wrong'} birth date`;
      if (afterBirth?.step === 'opening' && afterBirth.compartmentId) {
        story += d.rand() < 0.6 ? `, ${await door(d, afterBirth.compartmentId)}` : ', leaves the door for later';
      }
    }
  }
  // A session not at its door is given up (or left to time out), so the panel is free again.
  const now = d.t.box.session(sessionId);
  if (now && now.step !== 'opening' && now.step !== 'done' && d.rand() < 0.9) await say({ type: 'cancel' });
  return story;
}

/** Does one random thing at the box and says what it did (for a failure's message). */
export async function randomStep(d: Drive): Promise<string> {
  const { box } = d.t;
  const roll = d.rand() * 20;
  if (roll < 2) {
    const reference = `V-DRIVE-${d.registered.length + 1}`;
    const phone = pick(d.rand, PHONES);
    const withOldId = d.rand() < 0.3;
    await box.registerPickup({ reference, documentKind: 'ID_CARD', phone, birthDate: BIRTH, oldDocumentNumber: withOldId ? OLD_ID : null, accessible: d.rand() < 0.2 });
    d.registered.push({ reference, phone });
    return `register ${reference}`;
  }
  if (roll < 6) {
    const target = someIn(d, ['REGISTERED']);
    if (!target) return 'nothing to load';
    const loaded = await tolerated(box.loadPickup(target.reference, 'staff-anna'));
    if (!loaded) return `load ${target.reference}: refused ${refusal}`;
    await box.idle();
    return `load ${target.reference}: ${d.rand() < 0.7 ? await door(d, loaded.compartmentId) : 'staff come back later'}`;
  }
  if (roll < 12) return session(d);
  const target = someIn(d, roll < 13 ? ['REGISTERED', 'LOADING', 'READY', 'LOCKED'] : roll < 15 ? ['EXPIRED', 'CANCELLED', 'LOCKED', 'READY'] : ['LOCKED', 'READY']);
  if (roll < 13 && target) return `cancel ${target.reference}: ${(await tolerated(box.cancelPickup(target.reference, 'integration'))) ? 'done' : `refused ${refusal}`}`;
  if (roll < 15 && target) {
    const retrieving = await tolerated(box.retrievePickup(target.reference, 'staff-anna'));
    if (!retrieving) return `retrieve ${target.reference}: refused ${refusal}`;
    await box.idle();
    return `retrieve ${target.reference}: ${await door(d, retrieving.compartmentId)}`;
  }
  if (roll < 16 && target) return `reissue ${target.reference}: ${(await tolerated(box.reissuePin(target.reference, 'staff-anna'))) ? 'done' : `refused ${refusal}`}`;
  if (roll < 17) {
    // A door nobody unlocked: pulled (it stays shut) or pushed (a door left open closes).
    const id = pick(d.rand, box.compartments()).id;
    if (d.rand() < 0.5) d.t.hw.locks.openDoor(id);
    else d.t.hw.locks.closeDoor(id);
    return `door ${id} tried`;
  }
  const ms = pick(d.rand, JUMPS);
  await box.advance(ms);
  return `${ms} ms pass`;
}
