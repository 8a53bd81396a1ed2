/**
 * A box in its own process for the crash test. It runs seeded pickup flows on an SQLite file and
 * reports on stdout what it has done; the parent kills it with SIGKILL at random moments or at a
 * chosen pulse (CRASH_AT=before:N | after:N), then starts it again on the same file.
 *
 * Every lock pulse is written to PULSE_LOG with fsync *before* the latch moves, so the parent can
 * check that each physical unlock has a journaled intent with a cause.
 */
import { appendFileSync, closeSync, fsyncSync, openSync } from 'node:fs';
import { createBox } from '../../src/box.js';
import { demoCompartments } from '../../src/config.js';
import type { SimulatedHardware } from '../../src/box.js';
import { seeded } from './soak/world.js';

const [storage, seedText, pulseLog] = process.argv.slice(2) as [string, string, string];
const crashAt = process.env.CRASH_AT ?? '';
const started = performance.now();

const random = seeded(Number(seedText));
const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const box = await createBox({
  storage,
  compartments: demoCompartments(48),
  hoursPreset: 'always',
  lockPulseMs: 2,
  doorWindowMs: 3_000,
  pinKey: 'crash-test-key-0123456789abcdef-0123456789',
});
say(`ready ${Math.round(performance.now() - started)}`);
const hw = box.hardware as SimulatedHardware;

// Journal every pulse durably before it happens; optionally die around the Nth one.
const [when, nth] = crashAt.split(':');
let pulses = 0;
const pulse = hw.locks.pulse.bind(hw.locks);
hw.locks.pulse = async (compartment: string) => {
  pulses++;
  if (when === 'before' && pulses === Number(nth)) process.kill(process.pid, 'SIGKILL');
  const fd = openSync(pulseLog, 'a');
  appendFileSync(fd, `${compartment}\n`);
  fsyncSync(fd);
  closeSync(fd);
  await pulse(compartment);
  if (when === 'after' && pulses === Number(nth)) process.kill(process.pid, 'SIGKILL');
};

const until = async (cond: () => boolean, ms = 4_000) => {
  for (let waited = 0; !cond() && waited < ms; waited += 5) await sleep(5);
  await box.idle();
  return cond();
};

// Flows, one after another, until killed.
for (let i = 0; ; i++) {
  const reference = `CR-${seedText}-${i}`;
  const birthDate = '1980-04-12';
  await box.registerPickup({ reference, documentKind: 'ID_CARD', phone: '+4915228817386', birthDate });
  say(`registered ${reference}`);
  let compartmentId: string;
  try {
    ({ compartmentId } = await box.loadPickup(reference, 'staff-crash'));
  } catch {
    say(`full ${reference}`);
    await sleep(50);
    continue;
  }
  if (!(await until(() => !hw.locks.latched(compartmentId)))) continue;
  hw.locks.openDoor(compartmentId);
  await box.idle();
  hw.locks.closeDoor(compartmentId);
  if (!(await until(() => /PIN: \d{6}/.test(hw.sms.sent.find((m) => m.id.startsWith(`pin-${box.pickup(reference)?.id}-`))?.text ?? '')))) continue;
  if (random() < 0.3) continue; // some stay in the box
  const sms = hw.sms.sent.filter((m) => m.id.startsWith(`pin-${box.pickup(reference)!.id}-`)).at(-1)!;
  const pin = /PIN: (\d{6})/.exec(sms.text)![1]!;
  const { sessionId } = await box.startSession();
  await box.idle();
  for (const input of [
    { type: 'phone', phone: '+4915228817386' },
    { type: 'pin', pin: random() < 0.1 ? '000000' : pin },
    { type: 'factor', factor: 'birthDate' },
    { type: 'birthDate', birthDate },
  ] as const) {
    const s = box.session(sessionId);
    if (!s || s.step === 'done') break;
    if (input.type === 'factor' && s.step !== 'factor') continue;
    try {
      await box.sessionInput(sessionId, input);
    } catch {
      break;
    }
    await box.idle();
  }
  if (box.session(sessionId)?.step !== 'opening') {
    say(`notcollected ${reference}`);
    continue;
  }
  if (!(await until(() => !hw.locks.latched(compartmentId)))) continue;
  hw.locks.openDoor(compartmentId);
  await box.idle();
  hw.locks.closeDoor(compartmentId);
  await box.idle();
  say(`collected ${reference}`);
}
