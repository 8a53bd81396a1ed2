/**
 * A box in its own process for the personal-data test: on the SQLite file given as argument it
 * runs two pickups to the end (one with the birth date, one with the old ID card, which is
 * shredded), lets the audit period pass, prints `purged {json}` with what the parent must not
 * find in the files, and then waits to be killed with SIGKILL (no clean shutdown).
 */
import { SimulatedClock } from '../../actors/runtime/clock.js';
import { BIRTH, MONDAY_10AM, OLD_ID, PHONE, PHONE_2, testBox } from '../helpers.js';
import { collectBothWays, pinHashesOf } from './personal-data-support.js';

const [storage] = process.argv.slice(2) as [string];
const PINS = ['264801', '730915'];
let next = 0;
const t = await testBox({ storage, hoursPreset: 'always', auditPeriodDays: 7 }, { clock: new SimulatedClock(MONDAY_10AM), generatePin: () => PINS[next++ % PINS.length]! });

await collectBothWays(t, 'V-KILL');
const collected = ['V-KILL-1', 'V-KILL-2'].map((r) => t.box.pickup(r)?.status);
const shredded = t.hw.shredder.shredded.length;

// The PIN hashes as the registry stores them (PIN bound to the pickup and the PIN's serial).
const pinHashes = pinHashesOf(t.box.config.pinKey, ['V-KILL-1', 'V-KILL-2'].map((r) => t.box.pickup(r)!), PINS);

await t.box.advance(8 * 86_400_000);
const purged = await Promise.all(['V-KILL-1', 'V-KILL-2'].map(async (r) => (await t.box.pickupOrArchived(r))?.personalDataDeleted === true));
process.stdout.write(`purged ${JSON.stringify({ collected, shredded, purged, pins: PINS, pinHashes, phones: [PHONE, PHONE_2], birthDate: BIRTH, oldDocumentNumber: OLD_ID })}\n`);
// Stay up, as a running box does, until the parent kills us.
setInterval(() => {}, 60_000);
