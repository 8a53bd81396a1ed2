import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { pino } from 'pino';
import type { BoxEvent } from '../../actors/runtime/types.js';
import { ENGINES, HARNESS, INTEGRATION, KIOSK, STAFF, using, type Target } from './support.js';
import { dataFiles, leaksIn, pinHashesOf } from './personal-data-support.js';

/**
 * Logs are pseudonymous: a complete day of one box — two pickups (birth date; old ID card),
 * wrong inputs, a failing SMS gateway, an unexpected error during a request that carries a number,
 * a dead letter carrying a number, the audit period — run through GraphQL with a pino logger on both the box (`log`) and the server
 * (`logError`), and then every captured log line, the trace, every published event and the audit
 * log are searched for the phone numbers (all formats), the PINs and the birth dates (all formats).
 */

const PINS = ['482913', '571046'];
const WRONG_PIN = '903417';
const NUMBERS = ['0152 28817386', '+49 152 2881 7387'];
const BIRTH_DATE_INPUTS = ['12.04.1980', '13.04.1980'];

/** Every form in which the personal data could appear. */
const NEEDLES: Array<[string, RegExp]> = [
  ...['28817386', '28817387', '2881 7386', '2881 7387', '152 28817386'].map((n): [string, RegExp] => [`phone ${n}`, new RegExp(n)]),
  ...[...PINS, WRONG_PIN].map((p): [string, RegExp] => [`PIN ${p}`, new RegExp(`(?<![0-9A-Za-z])${p}(?![0-9A-Za-z])`)]),
  ...['1980-04-12', '12.04.1980', '1980-04-13', '13.04.1980', '12041980', '19800412'].map((d): [string, RegExp] => [`birth date ${d}`, new RegExp(d.replace(/\./g, '\\.'))]),
  // The MRZ form (YYMMDD) of the birth date, delimited so that timestamps do not match by chance.
  ['birth date 800412 (MRZ)', /(?<![0-9A-Za-z])800412(?![0-9A-Za-z])/],
  // The old ID card's number (the destruction record keeps a keyed hash of it instead).
  ['old document number L01X00T47', /L01X00T47/],
];

/** The PIN hashes the registry stored, as needles. */
const pinHashNeedles = (pinKey: string, pickups: Array<{ id: string; pinSerial: number }>, pins: string[]): Array<[string, RegExp]> =>
  pinHashesOf(pinKey, pickups, pins).map((h): [string, RegExp] => [`PIN hash ${h.slice(0, 8)}…`, new RegExp(h)]);

async function pickupDay(s: Target, beforePurge: () => Promise<void> = async () => {}): Promise<void> {
  const ok = <T>(r: { data?: T | null; errors?: unknown }, what: string): T => {
    assert.is(r.errors, undefined, `${what}: ${JSON.stringify(r.errors)}`);
    return r.data!;
  };
  const door = (id: string, open: boolean) => s.gql(`mutation($id: ID!, $open: Boolean!) { simulateDoor(compartmentId: $id, open: $open) { door } }`, { id, open }, HARNESS);
  const session = async () => ok(await s.gql<{ startSession: { id: string } }>(`mutation { startSession { id } }`, {}, KIOSK), 'start').startSession.id;
  const input = (mutation: string, id: string, args: string, vars: Record<string, unknown>) =>
    s.gql(`mutation($id: ID!${Object.keys(vars).map((k) => `, $${k}: ${k === 'factor' ? 'SecondFactor!' : 'String!'}`).join('')}) { ${mutation}(sessionId: $id${args}) { step error outcome compartmentId } }`, { id, ...vars }, KIOSK);

  // Registration (the integration sends number and birth date), loading, SMS (the first send fails).
  s.hw.sms.failNext(2);
  for (const [i, reference] of ['V-PD-1', 'V-PD-2'].entries()) {
    ok(await s.gql(`mutation($input: RegisterPickupInput!) { registerPickup(input: $input) { status } }`, {
      input: { reference, documentKind: 'ID_CARD', phone: NUMBERS[i], birthDate: '1980-04-12', oldDocumentNumber: 'L01X00T47' },
    }, INTEGRATION), 'register');
    const loaded = ok(await s.gql<{ loadPickup: { compartmentId: string } }>(`mutation($r: String!) { loadPickup(reference: $r) { compartmentId } }`, { r: reference }, STAFF), 'load');
    await door(loaded.loadPickup.compartmentId, true);
    await door(loaded.loadPickup.compartmentId, false);
  }
  await s.gql(`mutation { advanceClock(ms: 120000) }`, {}, HARNESS); // the outbox retries the failed SMS
  assert.is(s.box.pickup('V-PD-1')!.status, 'READY');

  // An unexpected failure while a request carries a number: logged, masked — without the number.
  const realInput = s.box.sessionInput;
  s.box.sessionInput = () => {
    throw new Error('panel bus timeout');
  };
  const crashed = await session();
  const masked = await input('enterPhone', crashed, ', phone: $phone', { phone: NUMBERS[0] });
  assert.is(masked.errors?.[0]?.extensions?.code, 'INTERNAL');
  s.box.sessionInput = realInput;
  await s.gql(`mutation($id: ID!) { cancelSession(sessionId: $id) { step } }`, { id: crashed }, KIOSK);

  // Pickup 1 with the birth date: a landline, a wrong PIN, a wrong birth date on the way.
  let id = await session();
  assert.is((await input('enterPhone', id, ', phone: $phone', { phone: '0211 8990' })).data?.enterPhone.error, 'NOT_A_MOBILE');
  await input('enterPhone', id, ', phone: $phone', { phone: NUMBERS[0] });
  assert.is((await input('enterPin', id, ', pin: $pin', { pin: WRONG_PIN })).data?.enterPin.error, 'AUTH_FAILED');
  await input('enterPhone', id, ', phone: $phone', { phone: '+4915228817386' });
  assert.is((await input('enterPin', id, ', pin: $pin', { pin: PINS[0] })).data?.enterPin.step, 'factor');
  await input('chooseFactor', id, ', factor: $factor', { factor: 'BIRTH_DATE' });
  assert.is((await input('enterBirthDate', id, ', birthDate: $birthDate', { birthDate: BIRTH_DATE_INPUTS[1] })).data?.enterBirthDate.error, 'BIRTH_DATE_MISMATCH');
  const opening = await input('enterBirthDate', id, ', birthDate: $birthDate', { birthDate: BIRTH_DATE_INPUTS[0] });
  const c1 = opening.data!.enterBirthDate.compartmentId as string;
  await door(c1, true);
  await door(c1, false);
  assert.is(s.box.pickup('V-PD-1')!.status, 'COLLECTED');
  await s.gql(`mutation { advanceClock(ms: 10000) }`, {}, HARNESS);

  // Pickup 2 with the old ID card (its MRZ carries the birth date), which is shredded.
  id = await session();
  await input('enterPhone', id, ', phone: $phone', { phone: '01522 8817387' });
  await input('enterPin', id, ', pin: $pin', { pin: PINS[1] });
  await input('chooseFactor', id, ', factor: $factor', { factor: 'OLD_ID' });
  ok(await s.gql(`mutation { simulateCardInsert(documentNumber: "L01X00T47", birthDate: "1980-04-12") }`, {}, HARNESS), 'card');
  const c2 = s.box.session(id)!.compartmentId!;
  assert.ok(c2, 'the card was accepted and the compartment unlocked');
  await door(c2, true);
  await door(c2, false);
  assert.is(s.box.pickup('V-PD-2')!.status, 'COLLECTED');

  // The harness refuses a message to nobody without echoing its payload; a message nobody takes
  // inside the box (a dead letter) is logged by the box — its payload, here a number, is not.
  const refused = await s.gql(`mutation($p: String) { injectMessage(to: "session/gone", type: "input.phone", payloadJson: $p) }`, { p: JSON.stringify({ phone: NUMBERS[0] }) }, HARNESS);
  assert.is(refused.errors?.[0]?.extensions?.code, 'ACTOR_NOT_FOUND');
  assert.not.ok(JSON.stringify(refused).includes(NUMBERS[0]!.slice(-6)), 'the refusal does not echo the number');
  s.box.supervisor.send('session/gone', { type: 'input.phone', phone: NUMBERS[0]! }, 'harness');

  // The audit period passes: personal data is deleted.
  await beforePurge();
  await s.gql(`mutation { advanceClock(ms: ${8 * 86_400_000}) }`, {}, HARNESS);
  assert.is(s.box.pickup('V-PD-1'), undefined, 'ended and purged: out of the registry');
  assert.is((await s.box.pickupOrArchived('V-PD-1'))!.personalDataDeleted, true);
}

for (const engine of ENGINES) {
  const test = suite(`security: personal data in logs (${engine})`);

  test('no phone number, PIN or birth date in logs, trace, events or audit after a day of pickups', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace', base: { name: 'ausgabebox' } }, { write: (line: string) => void lines.push(line) });
    const events: BoxEvent[] = [];
    let pins = 0;
    await using(
      engine,
      async (s) => {
        const stop = s.box.events.listen((e) => void events.push(e));
        try {
          await pickupDay(s);
        } finally {
          stop();
        }
        const haystacks: Record<string, string> = {
          'log output': lines.join(''),
          trace: JSON.stringify(s.box.trace.entries()),
          'published events': JSON.stringify(events),
          'audit log': JSON.stringify(await s.box.audit(1, 100_000)),
        };
        // The test would see a leak: the SMS really carried the PINs, the logs really captured the failure.
        assert.ok(s.hw.sms.sent.some((m) => m.text.includes(PINS[0]!)));
        assert.match(haystacks['log output']!, /panel bus timeout/, 'the masked error reached the log');
        assert.match(haystacks['log output']!, /dead letter/, 'the box log reached the logger');
        assert.ok(events.length > 20 && haystacks.trace!.length > 1_000);
        const leaks = Object.entries(haystacks).flatMap(([where, text]) => leaksIn(where, text, NEEDLES));
        assert.equal(leaks, [], leaks.join('\n'));
      },
      {
        server: { harness: true, logError: (error, where) => logger.error({ err: error, where }, 'unexpected error (masked for the client)') },
        box: { log: (level, msg, fields) => logger[level](fields ?? {}, msg), generatePin: () => PINS[pins++ % PINS.length]! },
        config: { hoursPreset: 'always' },
      },
    );
  });

  test.run();
}

const files = suite('security: personal data in the data directory');

files('after the audit period no file of the data directory (database, -wal, -shm) holds a number, birth date, old document number, PIN or PIN hash while the box runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-pd-files-'));
  let pins = 0;
  try {
    await using(
      'yoga',
      async (s) => {
        let before: string[] = [];
        await pickupDay(s, async () => {
          // The search sees what is there: before the audit period the number is in the files.
          before = Object.entries(dataFiles(dir)).flatMap(([name, text]) => leaksIn(name, text, NEEDLES));
        });
        assert.ok(before.some((l) => /^phone/.test(l)), `before the purge the search finds the number: ${before.join('; ')}`);
        const archived = await Promise.all(['V-PD-1', 'V-PD-2'].map(async (r) => (await s.box.pickupOrArchived(r))!));
        const needles = [...NEEDLES, ...pinHashNeedles(s.box.config.pinKey, archived, PINS)];
        const found = dataFiles(dir);
        assert.ok('box.sqlite-wal' in found && 'box.sqlite' in found, `searched: ${Object.keys(found).join(', ')}`);
        const leaks = Object.entries(found).flatMap(([name, text]) => leaksIn(name, text, needles));
        assert.equal(leaks, [], leaks.join('\n'));
        // The destruction is still provable: the record carries the keyed hash, not the number.
        const destroyed = (await s.box.audit(1, 100_000)).filter((a) => a.action === 'oldId.destroyed');
        assert.is(destroyed.length, 1);
        assert.match(destroyed[0]!.subject ?? '', /^hmac:[0-9a-f]{32}$/);
      },
      {
        server: { harness: true },
        box: { generatePin: () => PINS[pins++ % PINS.length]! },
        config: { hoursPreset: 'always', storage: `sqlite://${join(dir, 'box.sqlite')}` },
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

files('after the audit period and a SIGKILL of the box process the files hold none of it either', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-pd-kill-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(dirname(fileURLToPath(import.meta.url)), 'personal-data-child.ts'), `sqlite://${join(dir, 'box.sqlite')}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the box process did not finish its day within 60 s: ${out}`)), 60_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /^purged (.*)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`the box process exited with ${code}: ${out}`)));
    });
    const report = JSON.parse(line) as { collected: string[]; shredded: number; purged: boolean[]; pins: string[]; pinHashes: string[]; phones: string[]; birthDate: string; oldDocumentNumber: string };
    assert.equal(report.collected, ['COLLECTED', 'COLLECTED']);
    assert.is(report.shredded, 1, 'the old ID card went through the shredder');
    assert.equal(report.purged, [true, true]);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const needles: Array<[string, RegExp]> = [
      ...report.phones.flatMap((p): Array<[string, RegExp]> => [[`phone ${p}`, new RegExp(p.slice(-8))], [`phone ${p} national`, new RegExp(`0${p.slice(3)}`)]]),
      ...report.pins.map((p): [string, RegExp] => [`PIN ${p}`, new RegExp(`(?<![0-9A-Za-z])${p}(?![0-9A-Za-z])`)]),
      ...report.pinHashes.map((h): [string, RegExp] => [`PIN hash ${h.slice(0, 8)}…`, new RegExp(h)]),
      ['birth date', new RegExp(report.birthDate)],
      ['birth date (MRZ)', /(?<![0-9A-Za-z])800412(?![0-9A-Za-z])/],
      ['old document number', new RegExp(report.oldDocumentNumber)],
    ];
    const found = dataFiles(dir);
    assert.ok(existsSync(join(dir, 'box.sqlite-wal')), `the kill left the WAL behind: ${Object.keys(found).join(', ')}`);
    const leaks = Object.entries(found).flatMap(([name, text]) => leaksIn(name, text, needles));
    assert.equal(leaks, [], leaks.join('\n'));
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

files.run();
