import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { registryCrypto } from '../../src/crypto.js';
import { answerBirthDate, authenticate, oldIdCard, passDoor, PHONE_2, readyPickup, type TestBox } from '../helpers.js';

// What the personal-data tests share: the search for needles in files, keys and logs, the PIN
// hashes a pickup had, and a day's two collections (birth date; old ID card, shredded).

/** Where in `text` each needle occurs, with some context (empty: nothing found). */
export function leaksIn(where: string, text: string, needles: Array<[string, RegExp]>): string[] {
  const leaks: string[] = [];
  for (const [what, pattern] of needles) {
    const m = pattern.exec(text);
    if (m) leaks.push(`${what} in ${where}: …${JSON.stringify(text.slice(Math.max(0, m.index - 80), m.index + 40))}…`);
  }
  return leaks;
}

/** Every file below `dir` (recursively), read as latin1 text, by path relative to `dir`. */
export function dataFiles(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(join(dir, prefix))) {
    const path = join(prefix, name);
    if (statSync(join(dir, path)).isDirectory()) Object.assign(out, dataFiles(dir, path));
    else out[path] = readFileSync(join(dir, path)).toString('latin1');
  }
  return out;
}

/** The PIN hashes the registry stored (HMAC of the PIN bound to the pickup and the PIN's serial) for every PIN and serial it could have used. */
export function pinHashesOf(pinKey: string, pickups: Array<{ id: string; pinSerial: number }>, pins: readonly string[]): string[] {
  const crypto = registryCrypto(Buffer.from(pinKey, 'utf8'));
  return pickups.flatMap((p) => pins.flatMap((pin) => Array.from({ length: p.pinSerial }, (_, i) => crypto.pinHash(pin, p.id, i + 1))));
}

/** Two pickups collected at the panel: `<prefix>-1` (PHONE) with the birth date, `<prefix>-2` (PHONE_2) with the old ID card, which is shredded. */
export async function collectBothWays(t: TestBox, prefix: string): Promise<void> {
  const first = await readyPickup(t, `${prefix}-1`);
  let sessionId = await authenticate(t, first.pin);
  await answerBirthDate(t, sessionId);
  await passDoor(t, first.compartmentId);
  const second = await readyPickup(t, `${prefix}-2`, { phone: '0152 28817387' });
  sessionId = await authenticate(t, second.pin, PHONE_2);
  await t.box.sessionInput(sessionId, { type: 'factor', factor: 'oldId' });
  await t.box.idle();
  t.hw.reader.insert(oldIdCard());
  await t.box.idle();
  await passDoor(t, second.compartmentId);
}
