import * as assert from 'uvu/assert';
import { SystemClock } from '../../actors/runtime/clock.js';
import { makeTd1, parseTd1 } from '../../actors/domain/mrz.js';
import type { DeviceStatusEvent } from '../../drivers/ports.js';
import { SerialMrzReader, type MrzReaderProtocol } from '../../drivers/serial/mrz-reader.js';
import { DEFAULT_SERIAL } from '../../drivers/serial/port.js';
import { openSerialLine } from '../../drivers/serial/serialport-adapter.js';
import { SOCAT, suiteNeeding } from '../support/requires.js';
import { scriptedReader, sleep, until, type ScriptedReader } from './pty.js';

// The serial MRZ reader driver against a scripted reader on a real pseudo-terminal pair (socat),
// in real time: the bytes cross the kernel's tty layer exactly as from a USB serial adapter.

const CARD = makeTd1({ documentNumber: 'L01X00T47', birthDate: '1980-04-12', expiryDate: '2030-01-31', surname: 'MUSTERMANN', givenNames: 'ERIKA' });
const COMMANDS: MrzReaderProtocol = {
  lineEnd: 'CR',
  frame: null,
  presentLine: null,
  removedLine: null,
  commands: { enable: 'E1', disable: 'E0', eject: 'EJ', retain: 'RT' },
};

interface Rig {
  reader: ScriptedReader;
  driver: SerialMrzReader;
  inserted: number;
  status: DeviceStatusEvent[];
}

async function rig(protocol: MrzReaderProtocol = COMMANDS, extra: { readTimeoutMs?: number; reconnectMs?: number } = {}): Promise<Rig> {
  const reader = await scriptedReader();
  const driver = new SerialMrzReader({
    open: () => openSerialLine({ ...DEFAULT_SERIAL, path: reader.path }),
    clock: new SystemClock(),
    protocol,
    readTimeoutMs: extra.readTimeoutMs ?? 400,
    reconnectMs: extra.reconnectMs ?? 100,
  });
  const r: Rig = { reader, driver, inserted: 0, status: [] };
  driver.onCardInserted(() => r.inserted++);
  driver.onStatus((e) => r.status.push(e));
  await driver.start();
  return r;
}

async function done(r: Rig): Promise<void> {
  await r.driver.close();
  await r.reader.close();
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

const lines = (mrz: readonly string[], end = '\r') => mrz.map((l) => l + end).join('');

const serial = suiteNeeding('serial MRZ reader over a pty', [SOCAT]);

serial('a good read: the card is announced and its three lines come back as sent; they parse as TD1', async () => {
  const r = await rig();
  try {
    await r.reader.waitForCommand('E0\r');
    await r.driver.setAccepting(true);
    await r.reader.waitForCommand('E1\r');
    r.reader.send(lines(CARD));
    await until(() => r.inserted === 1, 20_000, 'card announced');
    const card = await r.driver.read();
    assert.equal(card.mrz, CARD);
    assert.is(parseTd1(card.mrz, Date.UTC(2026, 10, 23)).documentNumber, 'L01X00T47');
  } finally {
    await done(r);
  }
});

serial('eject and retain go to the reader as its commands, with the line end', async () => {
  const r = await rig();
  try {
    r.reader.send(lines(CARD));
    await until(() => r.inserted === 1, 20_000, 'card announced');
    await r.driver.read();
    await r.driver.transfer();
    await r.reader.waitForCommand('RT\r');
    r.reader.send(lines(CARD));
    await until(() => r.inserted === 2, 20_000, 'second card announced');
    await r.driver.eject();
    await r.reader.waitForCommand('EJ\r');
    assert.is(r.reader.received(), 'E0\rRT\rEJ\r');
  } finally {
    await done(r);
  }
});

serial('a check-digit failure is not the driver\'s business: the lines come through and TD1 parsing refuses them', async () => {
  const r = await rig();
  try {
    const bad = [CARD[0]!.slice(0, 14) + (CARD[0]![14] === '0' ? '1' : '0') + CARD[0]!.slice(15), CARD[1]!, CARD[2]!];
    r.reader.send(lines(bad));
    await until(() => r.inserted === 1, 20_000, 'card announced');
    const card = await r.driver.read();
    assert.equal(card.mrz, bad);
    assert.throws(() => parseTd1(card.mrz, Date.UTC(2026, 10, 23)), (e: { code?: string }) => e.code === 'INVALID_MRZ');
  } finally {
    await done(r);
  }
});

serial('garbage is refused with CARD_UNREADABLE at once, and its message carries none of the bytes', async () => {
  const r = await rig();
  try {
    r.reader.send('\x00\xff#?garbage~~\rmore noise\r');
    await until(() => r.inserted === 1, 20_000, 'card announced');
    const err = await rejection(r.driver.read());
    assert.is(err.code, 'CARD_UNREADABLE');
    assert.not.match(err.message, /garbage|noise/);
    assert.is(r.inserted, 1, 'the rest of the burst is dropped, not taken for another card');
  } finally {
    await done(r);
  }
});

serial('a partial line (the reader stops mid-line) ends as CARD_UNREADABLE after the read timeout', async () => {
  const r = await rig(COMMANDS, { readTimeoutMs: 300 });
  try {
    const t0 = Date.now();
    r.reader.send(CARD[0]! + '\r' + CARD[1]!.slice(0, 12));
    await until(() => r.inserted === 1, 20_000, 'card announced');
    const err = await rejection(r.driver.read());
    const waited = Date.now() - t0;
    assert.is(err.code, 'CARD_UNREADABLE');
    assert.match(err.message, /after 1 of 3 lines/);
    assert.ok(waited >= 280 && waited < 20_000, `gave up after ${waited} ms`);
  } finally {
    await done(r);
  }
});

serial('a slow reader (2 bytes every 60 ms, about 2.8 s for the card) still reads: the timeout counts silence, not the whole read', async () => {
  const r = await rig(COMMANDS, { readTimeoutMs: 1500 });
  try {
    const t0 = Date.now();
    const sending = r.reader.trickle(lines(CARD), 2, 60);
    await until(() => r.inserted === 1, 20_000, 'card announced');
    const card = await r.driver.read();
    await sending;
    assert.equal(card.mrz, CARD);
    assert.ok(Date.now() - t0 > 1500, 'the whole read took longer than the timeout');
  } finally {
    await done(r);
  }
});

serial('unplugged mid-read: the read fails with READER_DISCONNECTED, the reader is reported gone, then back when plugged in', async () => {
  // a read timeout far beyond any delay of the kernel in telling the driver the pty is gone
  const r = await rig(COMMANDS, { readTimeoutMs: 120_000, reconnectMs: 50 });
  try {
    await r.reader.waitForCommand('E0\r');
    r.reader.send(CARD[0]! + '\r');
    await until(() => r.inserted === 1, 20_000, 'card announced');
    // handled from the start: the rejection may come while the pty is still going away
    const reading = rejection(r.driver.read());
    await r.reader.unplug();
    const err = await reading;
    assert.is(err.code, 'READER_DISCONNECTED');
    await until(() => r.status.length >= 1, 20_000, 'status reported');
    assert.equal(r.status[0], { device: 'reader', ok: false, code: 'READER_DISCONNECTED' });
    assert.is((await rejection(r.driver.setAccepting(true))).code, 'READER_DISCONNECTED');
    await r.reader.plug();
    await until(() => r.status.some((s) => s.ok), 20_000, 'reader back');
    assert.equal(r.status.at(-1), { device: 'reader', ok: true });
    await r.reader.waitForCommand('E0\r');
    r.reader.send(lines(CARD));
    await until(() => r.inserted === 2, 20_000, 'card after reconnect');
    assert.equal((await r.driver.read()).mrz, CARD);
  } finally {
    await done(r);
  }
});

serial('framed reader: STX/ETX around CRLF lines, present and removed events', async () => {
  const protocol: MrzReaderProtocol = {
    lineEnd: 'CRLF',
    frame: { start: '\x02', end: '\x03' },
    presentLine: '@DOC',
    removedLine: '@OUT',
    commands: { enable: null, disable: null, eject: '@EJECT', retain: '@KEEP' },
  };
  const r = await rig(protocol);
  try {
    r.reader.send('@DOC\r\n');
    await until(() => r.inserted === 1, 20_000, 'present event');
    const reading = r.driver.read();
    await sleep(50);
    r.reader.send(`\x02${lines(CARD, '\r\n')}\x03`);
    assert.equal((await reading).mrz, CARD);
    await r.driver.eject();
    await r.reader.waitForCommand('@EJECT\r\n');
    r.reader.send('@OUT\r\n@DOC\r\n');
    await until(() => r.inserted === 2, 20_000, 'second card');
    r.reader.send('@OUT\r\n');
    const err = await rejection(r.driver.read());
    assert.is(err.code, 'CARD_UNREADABLE', 'a card taken out before its lines came is no read');
  } finally {
    await done(r);
  }
});

serial('a reader without eject and retain commands needs a GPIO actuator: refused before any I/O', () => {
  assert.throws(
    () => new SerialMrzReader({ open: () => Promise.reject(new Error('must not open')), clock: new SystemClock(), protocol: { ...COMMANDS, commands: { ...COMMANDS.commands, eject: null } } }),
    (e: { code?: string }) => e.code === 'READER_CONFIG_INVALID',
  );
});

serial.run();
