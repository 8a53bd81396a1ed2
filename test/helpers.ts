import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from '../actors/runtime/clock.js';
import { makeTd1 } from '../actors/domain/mrz.js';
import { createBox, type Box, type SimulatedHardware } from '../src/box.js';
import { demoCompartments, type BoxConfigInput } from '../src/config.js';
import type { CreateBoxOptions } from '../src/box.js';

/** A real SQLite file in a new temporary directory (`storage` for the box's config). */
export function tempStorage(prefix = 'ausgabebox-'): { dir: string; storage: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, storage: `sqlite://${join(dir, 'box.sqlite')}` };
}

/** Runs `test` with a real SQLite file (see tempStorage) and removes it afterwards, also when the test fails. */
export async function withTempStorage(prefix: string, test: (storage: string) => Promise<void>): Promise<void> {
  const { dir, storage } = tempStorage(prefix);
  try {
    await test(storage);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Monday 23 Nov 2026, 10:00 in Düsseldorf: the box is open. */
export const MONDAY_10AM = Date.UTC(2026, 10, 23, 9, 0, 0);

/** Numbers from the range German regulators keep for fiction; never real people's. */
export const PHONE = '+4915228817386';
export const PHONE_2 = '+4915228817387';
export const BIRTH = '1980-04-12';
export const OLD_ID = 'L01X00T47';

export interface TestBox {
  box: Box;
  clock: SimulatedClock;
  hw: SimulatedHardware;
}

/** A box on a simulated clock and simulated devices, in memory unless told otherwise. */
export async function testBox(config: BoxConfigInput = {}, options: CreateBoxOptions & { clock?: SimulatedClock } = {}): Promise<TestBox> {
  const clock = options.clock ?? new SimulatedClock(MONDAY_10AM);
  const box = await createBox({ storage: 'memory:', compartments: demoCompartments(24), lockPulseMs: 0, ...config }, { ...options, clock });
  return { box, clock, hw: box.hardware as SimulatedHardware };
}

export function register(box: Box, reference: string, extra: Record<string, unknown> = {}) {
  return box.registerPickup({ reference, documentKind: 'ID_CARD', phone: '0152 28817386', birthDate: BIRTH, oldDocumentNumber: OLD_ID, ...extra });
}

/** Registers, loads (staff opens, inserts, closes) and returns the PIN the citizen got by SMS. */
export async function readyPickup(t: TestBox, reference: string, extra: Record<string, unknown> = {}): Promise<{ pin: string; compartmentId: string }> {
  await register(t.box, reference, extra);
  const { compartmentId } = await t.box.loadPickup(reference, 'staff-anna');
  await t.box.idle();
  if (!t.hw.locks.openDoor(compartmentId)) throw new Error(`door ${compartmentId} did not open for loading`);
  await t.box.idle();
  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
  const phone = String(extra.phone ?? PHONE).replace(/^0/, '+49').replace(/\s/g, '');
  const pin = lastPin(t, phone);
  return { pin, compartmentId };
}

/** A person opens the unlocked door of `compartmentId` (putting in or taking out) and closes it again. */
export async function passDoor(t: TestBox, compartmentId: string): Promise<void> {
  t.hw.locks.openDoor(compartmentId);
  await t.box.idle();
  t.hw.locks.closeDoor(compartmentId);
  await t.box.idle();
}

export function lastPin(t: TestBox, phone = PHONE): string {
  const texts = t.hw.sms.to(phone).map((m) => /PIN: (\d{6})/.exec(m.text)?.[1]).filter(Boolean);
  const pin = texts.at(-1);
  if (!pin) throw new Error(`no PIN was sent to ${phone}`);
  return pin;
}

/** A PIN that is certainly not `pin`. */
export const wrongPin = (pin: string): string => String((Number(pin) + 1) % 1_000_000).padStart(6, '0');

/** Starts a session and authenticates number and PIN. */
export async function authenticate(t: TestBox, pin: string, phone = PHONE) {
  const { sessionId } = await t.box.startSession();
  await t.box.idle();
  await t.box.sessionInput(sessionId, { type: 'phone', phone });
  await t.box.idle();
  await t.box.sessionInput(sessionId, { type: 'pin', pin });
  await t.box.idle();
  return sessionId;
}

/** Six messages the actor's handler cannot take (sent unchecked, as a bug would): past the restart intensity, it fails for good. */
export async function breakActor(t: TestBox, address: string, message: { type: string }): Promise<void> {
  for (let i = 0; i < 6; i++) t.box.supervisor.post(address as never, message as never);
  await t.box.idle();
  const failed = t.box.failures().map((f) => f.actor);
  if (failed.length !== 1 || failed[0] !== address) throw new Error(`${address} was to fail for good, alone; failed: ${failed.join(', ') || 'none'}`);
}

export function oldIdCard(documentNumber = OLD_ID, birthDate = BIRTH) {
  return { mrz: makeTd1({ documentNumber, birthDate, expiryDate: '2030-01-31', surname: 'MUSTERMANN', givenNames: 'ERIKA' }) };
}

/** Chooses the birth date at the panel and enters it. */
export async function answerBirthDate(t: TestBox, sessionId: string, birthDate = BIRTH): Promise<void> {
  await t.box.sessionInput(sessionId, { type: 'factor', factor: 'birthDate' });
  await t.box.idle();
  await t.box.sessionInput(sessionId, { type: 'birthDate', birthDate });
  await t.box.idle();
}

/** A message the alarm list's handler throws on, as a bug would: six of them stop it for good. */
export const ALARM_LIST_BUG = {
  type: 'alarm.clear',
  get key(): string {
    throw new Error('a bug in the alarm list');
  },
};
