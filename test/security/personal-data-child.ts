/**
 * A box in its own process for the personal-data test: on the SQLite file given as argument it
 * runs two pickups to the end (one with the birth date, one with the old ID card, which is
 * shredded), lets the audit period pass, prints `purged {json}` with what the parent must not
 * find in the files, and then waits to be killed with SIGKILL (no clean shutdown).
 */
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { registryCrypto } from '../../src/crypto.js';
import { BIRTH, MONDAY_10AM, OLD_ID, PHONE, PHONE_2, answerBirthDate, authenticate, oldIdCard, readyPickup, testBox } from '../helpers.js';

const [storage] = process.argv.slice(2) as [string];
const PINS = ['264801', '730915'];
let next = 0;
const t = await testBox({ storage, hoursPreset: 'always', auditPeriodDays: 7 }, { clock: new SimulatedClock(MONDAY_10AM), generatePin: () => PINS[next++ % PINS.length]! });

const first = await readyPickup(t, 'V-KILL-1');
let sessionId = await authenticate(t, first.pin);
await answerBirthDate(t, sessionId);
t.hw.locks.openDoor(first.compartmentId);
await t.box.idle();
t.hw.locks.closeDoor(first.compartmentId);
await t.box.idle();

const second = await readyPickup(t, 'V-KILL-2', { phone: '0152 28817387' });
sessionId = await authenticate(t, second.pin, PHONE_2);
await t.box.sessionInput(sessionId, { type: 'factor', factor: 'oldId' });
await t.box.idle();
t.hw.reader.insert(oldIdCard());
await t.box.idle();
t.hw.locks.openDoor(second.compartmentId);
await t.box.idle();
t.hw.locks.closeDoor(second.compartmentId);
await t.box.idle();
const collected = ['V-KILL-1', 'V-KILL-2'].map((r) => t.box.pickup(r)?.status);
const shredded = t.hw.shredder.shredded.length;

// The PIN hashes as the registry stores them (PIN bound to the pickup and the PIN's serial).
const crypto = registryCrypto(Buffer.from(t.box.config.pinKey, 'utf8'));
const pinHashes = ['V-KILL-1', 'V-KILL-2'].flatMap((r) => {
  const p = t.box.pickup(r)!;
  return PINS.flatMap((pin) => Array.from({ length: p.pinSerial }, (_, i) => crypto.pinHash(pin, p.id, i + 1)));
});

await t.box.advance(8 * 86_400_000);
const purged = await Promise.all(['V-KILL-1', 'V-KILL-2'].map(async (r) => (await t.box.pickupOrArchived(r))?.personalDataDeleted === true));
process.stdout.write(`purged ${JSON.stringify({ collected, shredded, purged, pins: PINS, pinHashes, phones: [PHONE, PHONE_2], birthDate: BIRTH, oldDocumentNumber: OLD_ID })}\n`);
// Stay up, as a running box does, until the parent kills us.
setInterval(() => {}, 60_000);
