/**
 * A kiosk input's latency on the system clock, with the box idle and with the box busy as in
 * issue 11's table: another compartment's lock pulsing for 1.5 s, one SMS taking 4 s, and an
 * integration registering pickups as fast as it can (SQLite). Each input waits for its own answer
 * (ask/reply), so busy ÷ idle should stay small.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../actors/runtime/clock.js';
import { createBox, simulatedHardware, type Box } from '../src/box.js';
import { demoCompartments, resolveConfig, type BoxConfigInput } from '../src/config.js';
import { seeded } from '../test/support/random.js';
import { median, nowMs, percentile, row, sleep, type BenchContext, type Row } from './lib.js';

const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await sleep(5);
};

/**
 * `count` enterPhone inputs (a landline keeps the session at the phone step), timed one by one.
 * `spaced`: a pause of 1–6 ms (seeded) before each, so an input comes at an arbitrary moment of
 * the box's work (a timer, like a key, fires right after the I/O phase, where the box has just
 * begun its next transaction: the worst moment); else each follows the previous answer at once.
 */
async function inputs(box: Box, sessionId: string, count: number, spaced: (() => number) | null = null): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    if (spaced) await sleep(1 + Math.floor(spaced() * 6));
    const start = nowMs();
    await box.sessionInput(sessionId, { type: 'phone', phone: '0211 8990' });
    times.push(nowMs() - start);
  }
  return times;
}

/**
 * `count` PIN entries at kiosk 2, each in a session of its own (number, PIN timed, cancel):
 * `known` the right PIN of the READY pickup (the auth actor matches it, the pickup's actor claims
 * itself for the session), else a wrong PIN for a number with no pickup (the auth actor alone
 * answers: no pickup is told).
 */
async function pins(box: Box, count: number, known: { phone: string; pin: () => string } | null): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const { sessionId } = await box.startSession('2');
    await box.sessionInput(sessionId, { type: 'phone', phone: known?.phone ?? `+4915228${String(900_000 + i).padStart(6, '0')}` });
    const start = nowMs();
    const answer = await box.sessionInput(sessionId, { type: 'pin', pin: known ? known.pin() : '000000' });
    times.push(nowMs() - start);
    if ((answer.error ?? null) !== (known ? null : 'AUTH_FAILED')) throw new Error(`PIN entry answered ${answer.error ?? 'ok'}`);
    if (box.session(sessionId)?.step !== 'done') await box.sessionInput(sessionId, { type: 'cancel' });
  }
  return times;
}

export async function run({ quick, log }: BenchContext): Promise<Row[]> {
  const count = quick ? 20 : 50;
  const dir = mkdtempSync(join(tmpdir(), 'bench-kiosk-'));
  const input: BoxConfigInput = { storage: `sqlite://${join(dir, 'box.sqlite')}`, compartments: demoCompartments(48), lockPulseMs: 1_500, hoursPreset: 'always', kiosks: ['1', '2'], throttle: { free: 1_000_000 } };
  const clock = new SystemClock();
  const hardware = simulatedHardware(resolveConfig(input), clock);
  let smsDelayMs = 0;
  let smsInFlight = 0;
  const send = hardware.sms.send.bind(hardware.sms);
  hardware.sms.send = async (message) => {
    smsInFlight++;
    try {
      if (smsDelayMs > 0) await sleep(smsDelayMs);
      return await send(message);
    } finally {
      smsInFlight--;
    }
  };
  const box = await createBox(input, { clock, hardware });
  const register = (reference: string) => box.registerPickup({ reference, documentKind: 'ID_CARD', phone: '+4915228817386', birthDate: '1980-04-12', oldDocumentNumber: null });
  try {
    await register('V-K-0');
    const { compartmentId } = await box.loadPickup('V-K-0', 'staff');
    await until(() => hardware.locks.latch(compartmentId) === 'released');
    hardware.locks.openDoor(compartmentId);
    await until(() => box.compartment(compartmentId)?.door === 'open');
    hardware.locks.closeDoor(compartmentId);
    await until(() => box.pickup('V-K-0')?.status === 'READY' && smsInFlight === 0 && hardware.sms.sent.length === 1);

    const { sessionId } = await box.startSession();
    await inputs(box, sessionId, 10); // warm-up
    const idle = await inputs(box, sessionId, count);
    const idleSpaced = await inputs(box, sessionId, count, seeded(11));
    const pinOf = () => hardware.sms.to('+4915228817386').at(-1)!.text.match(/PIN: (\d{6})/)![1]!;
    const knownPin = { phone: '+4915228817386', pin: pinOf };
    await pins(box, 5, knownPin); // warm-up
    await pins(box, 5, null);
    const idleRight = await pins(box, count, knownPin);
    const idleWrong = await pins(box, count, null);

    // Busy: refresh the slow SMS and the pulse while measuring, and flood registrations throughout.
    smsDelayMs = 4_000;
    let flooding = true;
    let registered = 0;
    const flood = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; flooding; i++) {
        await register(`V-KF-${w}-${i}`);
        registered++;
      }
    });
    const busy: number[] = [];
    const busySpaced: number[] = [];
    const busyRight: number[] = [];
    const busyWrong: number[] = [];
    const spaced = seeded(11);
    for (let round = 0; busy.length < count || busySpaced.length < count; round++) {
      // A new PIN for V-K-0 (its SMS takes 4 s: the one already out is the one the citizen has).
      const sentBefore = hardware.sms.sent.length;
      await box.reissuePin('V-K-0', 'staff');
      await register(`V-KP-${round}`);
      await box.loadPickup(`V-KP-${round}`, 'staff');
      busy.push(...(await inputs(box, sessionId, Math.min(10, count - busy.length))));
      busySpaced.push(...(await inputs(box, sessionId, Math.min(10, count - busySpaced.length), spaced)));
      busyWrong.push(...(await pins(box, Math.min(10, count - busyWrong.length), null)));
      // The reissued PIN's SMS arrives after its 4 s; until then no right PIN is known.
      await until(() => hardware.sms.sent.length > sentBefore);
      busyRight.push(...(await pins(box, Math.min(10, count - busyRight.length), knownPin)));
    }
    flooding = false;
    await Promise.all(flood);
    log(`kiosk enterPin on the system clock: right PIN idle p50 ${median(idleRight).toFixed(2)} ms, busy p50 ${median(busyRight).toFixed(2)} ms; wrong PIN (unknown number) idle p50 ${median(idleWrong).toFixed(2)} ms, busy p50 ${median(busyWrong).toFixed(2)} ms`);
    log(`kiosk enterPhone on the system clock: idle p50 ${median(idle).toFixed(2)} ms, busy p50 ${median(busy).toFixed(2)} ms, p99 ${percentile(busy, 99).toFixed(2)} ms; spaced: idle p50 ${median(idleSpaced).toFixed(2)} ms, busy p50 ${median(busySpaced).toFixed(2)} ms, p99 ${percentile(busySpaced, 99).toFixed(2)} ms; ${registered} registrations meanwhile`);
    const B = 'kiosk input latency, system clock (enterPhone via box API)';
    const note = 'target ≤ 2×; busy: a 1.5 s lock pulse, a 4 s SMS and 8 registration loops on SQLite, all in flight; a panel\'s commits go ahead of the flood in a transaction of their own';
    const P = 'kiosk PIN latency, system clock (enterPin via box API, busy as above)';
    const rightNote = 'the auth actor matches the PIN, the pickup\'s own actor (an empty mailbox) claims itself for the session in a transaction of its own, which waits at most for the flood\'s transaction already on the disk';
    const wrongNote = 'a number with no pickup: the auth actor alone answers, no pickup is told';
    const spacedNote = 'each input 1–6 ms after the last answer, at the moment the flood has just begun a transaction: it waits for that one, then commits alone';
    return [
      row(B, 'busy p50, back to back', median(busy), 'ms', 'idle p50', median(idle), note),
      row(B, 'busy p99, back to back', percentile(busy, 99), 'ms', 'idle p99', percentile(idle, 99), `${registered} registrations during the busy inputs`),
      row(B, 'busy p50, spaced', median(busySpaced), 'ms', 'idle p50, spaced', median(idleSpaced), spacedNote),
      row(B, 'busy p99, spaced', percentile(busySpaced, 99), 'ms', 'idle p99, spaced', percentile(idleSpaced, 99), spacedNote),
      row(P, 'right PIN, busy p50', median(busyRight), 'ms', 'idle p50', median(idleRight), rightNote),
      row(P, 'right PIN, busy p99', percentile(busyRight, 99), 'ms', 'idle p99', percentile(idleRight, 99), rightNote),
      row(P, 'wrong PIN, busy p50', median(busyWrong), 'ms', 'idle p50', median(idleWrong), wrongNote),
      row(P, 'wrong PIN, busy p99', percentile(busyWrong, 99), 'ms', 'idle p99', percentile(idleWrong, 99), wrongNote),
    ];
  } finally {
    smsDelayMs = 0;
    await box.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
