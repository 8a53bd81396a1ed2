import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { createClient } from '@redis/client';
import { BIRTH, lastPin, OLD_ID, passDoor, PHONE, PHONE_2, readyPickup, testBox } from '../helpers.js';
import { freePort, launchRedis } from '../persistence/redis-server.js';
import { REDIS, suiteNeeding } from '../support/requires.js';
import { collectBothWays, dataFiles, leaksIn, pinHashesOf } from './personal-data-support.js';

// Personal data on the Redis backend: three pickups (collected with the birth date, collected with
// the old ID card, which is shredded, and one whose citizen asked for a new PIN and never came —
// expired and taken back by staff) run on a real redis-server; the audit period passes; then every
// key of the server, whatever its type, and the server's append-only and snapshot files are
// searched for the numbers in every form the box stores, the birth dates (ISO and MRZ), the old
// document numbers, every PIN sent and every PIN hash the pickups had.

const test = suiteNeeding('security: personal data on Redis', [REDIS]);

const PHONE_3 = '+4915228817388';
const BIRTH_3 = '1975-09-30';
const OLD_ID_3 = 'T22000129';
const PINS = ['264801', '730915', '518370', '947162'];
const DAY = 86_400_000;

/** Every form of a number the box could store: E.164, national, digits only, spaced. */
const phoneNeedles = (e164: string): Array<[string, RegExp]> => {
  const national = `0${e164.slice(3)}`;
  return [
    [`phone ${e164}`, new RegExp(`\\${e164}`)],
    [`phone ${national} (national)`, new RegExp(national)],
    [`phone ${e164.slice(1)} (digits)`, new RegExp(e164.slice(1))],
    [`phone …${e164.slice(-8)} (subscriber part)`, new RegExp(e164.slice(-8))],
    [`phone ${national.slice(0, 4)} ${national.slice(4)} (spaced)`, new RegExp(`${national.slice(0, 4)} ${national.slice(4)}`)],
  ];
};
const birthNeedles = (iso: string): Array<[string, RegExp]> => {
  const [y, m, d] = iso.split('-') as [string, string, string];
  return [
    [`birth date ${iso}`, new RegExp(iso)],
    [`birth date ${d}.${m}.${y}`, new RegExp(`${d}\\.${m}\\.${y}`)],
    [`birth date ${y}${m}${d}`, new RegExp(`${y}${m}${d}`)],
    // MRZ form YYMMDD, delimited so that timestamps do not match by chance
    [`birth date ${y.slice(2)}${m}${d} (MRZ)`, new RegExp(`(?<![0-9A-Za-z])${y.slice(2)}${m}${d}(?![0-9A-Za-z])`)],
  ];
};

type Client = ReturnType<typeof createClient>;

/** Every key of the server with its value as text, whatever the key's type. */
async function dumpRedis(client: Client): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let cursor = '0';
  do {
    const [next, keys] = (await client.sendCommand(['SCAN', cursor, 'COUNT', '1000'])) as [string, string[]];
    cursor = next;
    for (const key of keys) {
      const type = String(await client.sendCommand(['TYPE', key]));
      const read: Record<string, string[]> = {
        string: ['GET', key],
        hash: ['HGETALL', key],
        list: ['LRANGE', key, '0', '-1'],
        set: ['SMEMBERS', key],
        zset: ['ZRANGE', key, '0', '-1', 'WITHSCORES'],
        stream: ['XRANGE', key, '-', '+'],
      };
      const command = read[type];
      if (!command) throw new Error(`key ${key} has a type the scan cannot read: ${type}`);
      out[`${type} ${key}`] = JSON.stringify(await client.sendCommand(command));
    }
  } while (cursor !== '0');
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until Redis has no rewrite or save running or scheduled. */
async function persistenceIdle(client: Client): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const info = String(await client.sendCommand(['INFO', 'persistence']));
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info) && /rdb_bgsave_in_progress:0/.test(info)) return;
    await sleep(50);
  }
  throw new Error('Redis did not finish its background rewrite within 10 s');
}

test('after the audit period no Redis key, and after a rewrite no AOF or RDB file, holds a number, birth date, old document number, PIN or PIN hash', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ausgabebox-pd-redis-'));
  // Durable as the box demands; snapshot strings uncompressed so that a value left in the files
  // is found by a plain search (LZF would hide it from the search, not from a reader).
  let server: ChildProcess | null = await launchRedis(port, dir);
  const client: Client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  await client.sendCommand(['CONFIG', 'SET', 'rdbcompression', 'no']);
  let pins = 0;
  const t = await testBox({ storage: `redis://127.0.0.1:${port}`, hoursPreset: 'always', auditPeriodDays: 7, pickupWindowDays: 10 }, { generatePin: () => PINS[pins++ % PINS.length]! });
  let closed = false;
  try {
    // 1: collected with the birth date; 2: with the old ID card, which is shredded.
    await collectBothWays(t, 'V-RPD');
    assert.equal(['V-RPD-1', 'V-RPD-2'].map((r) => t.box.pickup(r)?.status), ['COLLECTED', 'COLLECTED']);
    assert.is(t.hw.shredder.shredded.length, 1, 'the old ID card went through the shredder');
    // 3: the SMS is "lost", a new PIN is sent; the citizen never comes, the pickup expires and staff take it back.
    const third = await readyPickup(t, 'V-RPD-3', { phone: PHONE_3, birthDate: BIRTH_3, oldDocumentNumber: OLD_ID_3 });
    await t.box.advance(6_000);
    const { sessionId: lost } = await t.box.startSession();
    await t.box.idle();
    await t.box.sessionInput(lost, { type: 'lostPin', phone: PHONE_3 });
    await t.box.idle();
    const resent = lastPin(t, PHONE_3);
    assert.is.not(resent, third.pin, 'a new PIN was sent');
    await t.box.sessionInput(lost, { type: 'cancel' });
    await t.box.idle();

    // The PIN hashes every pickup had (PIN bound to the pickup and the PIN's serial), and every PIN sent.
    const sentPins = [...new Set(t.hw.sms.sent.map((m) => /PIN: (\d{6})/.exec(m.text)?.[1]).filter((p): p is string => !!p))];
    assert.ok(sentPins.length >= 4, `four PINs were sent: ${sentPins.join(', ')}`);
    const pinHashes = pinHashesOf(t.box.config.pinKey, ['V-RPD-1', 'V-RPD-2', 'V-RPD-3'].map((r) => t.box.pickup(r)!), sentPins);
    const needles: Array<[string, RegExp]> = [
      ...[PHONE, PHONE_2, PHONE_3].flatMap(phoneNeedles),
      ...[BIRTH, BIRTH_3].flatMap(birthNeedles),
      ...[OLD_ID, OLD_ID_3].map((n): [string, RegExp] => [`old document number ${n}`, new RegExp(n)]),
      ...sentPins.map((p): [string, RegExp] => [`PIN ${p}`, new RegExp(`(?<![0-9A-Za-z])${p}(?![0-9A-Za-z])`)]),
      ...pinHashes.map((h): [string, RegExp] => [`PIN hash ${h.slice(0, 8)}…`, new RegExp(h)]),
    ];
    // The search sees what is there: before the audit period the keys hold numbers, a live PIN hash, the old document number.
    const before = Object.entries(await dumpRedis(client)).flatMap(([key, text]) => leaksIn(key, text, needles));
    for (const what of [/^phone \+4915228817388/, /^PIN hash/, /^old document number T22000129/, /^birth date 1975-09-30/]) {
      assert.ok(before.some((l) => what.test(l)), `before the purge the scan finds ${what}: ${before.join('\n')}`);
    }

    const rewritesOf = async () => Number(/aof_rewrites:(\d+)/.exec(String(await client.sendCommand(['INFO', 'persistence'])))![1]);
    await persistenceIdle(client);
    const rewritesBefore = await rewritesOf();

    // Pickup 3 expires after its window; staff take it back to the counter.
    await t.box.advance(11 * DAY);
    assert.is(t.box.pickup('V-RPD-3')!.status, 'EXPIRED');
    const { compartmentId } = await t.box.retrievePickup('V-RPD-3', 'staff-ben');
    await t.box.idle();
    await passDoor(t, compartmentId);
    assert.is(t.box.pickup('V-RPD-3')!.status, 'RETURNED');
    // The audit period passes for all three.
    await t.box.advance(8 * DAY);
    for (const r of ['V-RPD-1', 'V-RPD-2', 'V-RPD-3']) assert.is((await t.box.pickupOrArchived(r))?.personalDataDeleted, true, `${r} purged`);

    // Every key, whatever its type.
    const keys = await dumpRedis(client);
    assert.ok(Object.keys(keys).length > 10, `the box's keys are there: ${Object.keys(keys).join(', ')}`);
    const leaks = Object.entries(keys).flatMap(([key, text]) => leaksIn(key, text, needles));
    assert.equal(leaks, [], leaks.join('\n'));

    // The append-only file logged every value written before the purge; the box asked Redis to
    // rewrite it after each erasing commit (again a second later when one was already running),
    // so without any rewrite of the test's own the files come clean: the search runs until they do.
    await persistenceIdle(client);
    const rewrites = await rewritesOf();
    assert.ok(rewrites > rewritesBefore, `the box asked for an AOF rewrite after the purges (aof_rewrites: ${rewritesBefore} → ${rewrites})`);
    let files: Record<string, string> = {};
    let fileLeaks: string[] = [];
    const searchFiles = async (what: string) => {
      for (let i = 0; i < 100; i++) {
        await persistenceIdle(client);
        files = dataFiles(dir);
        fileLeaks = Object.entries(files).flatMap(([name, text]) => leaksIn(name, text, needles));
        if (fileLeaks.length === 0) return;
        await sleep(100); // old AOF parts are deleted in the background after a rewrite
      }
      assert.equal(fileLeaks, [], `${what}:\n${fileLeaks.join('\n')}`);
    };
    await searchFiles('the AOF after the rewrites the box asked for');
    assert.ok(Object.keys(files).some((n) => /\.aof$/.test(n)) && Object.keys(files).some((n) => /\.base\.rdb$/.test(n)), `searched: ${Object.keys(files).join(', ')}`);
    // A snapshot (RDB) taken now holds none of it either; the files really hold the box's data.
    await client.sendCommand(['BGSAVE']);
    await searchFiles('the AOF and a fresh RDB snapshot');
    assert.ok('dump.rdb' in files, `searched: ${Object.keys(files).join(', ')}`);
    assert.ok(files['dump.rdb']!.includes('V-RPD-1'), 'the snapshot holds the box data (the reference), uncompressed');

    await t.box.close();
    closed = true;
  } finally {
    if (!closed) await t.box.close().catch(() => {});
    await client.close().catch(() => {});
    if (server) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
      server = null;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
