import { suite, type Test } from 'uvu';
import * as assert from 'uvu/assert';
import { SimulatedClock, SystemClock } from '../../actors/runtime/clock.js';
import type { CardData, CardReaderPort, DeviceStatusEvent } from '../../drivers/ports.js';
import { SerialMrzReader } from '../../drivers/serial/mrz-reader.js';
import { DEFAULT_SERIAL } from '../../drivers/serial/port.js';
import { openSerialLine } from '../../drivers/serial/serialport-adapter.js';
import { SimulatedMrzReaderDevice } from '../../drivers/serial/sim/mrz-device.js';
import { SimulatedCardReader, SimulatedShredder } from '../../drivers/sim/devices.js';
import { SOCAT, suiteNeeding } from '../support/requires.js';
import { PLAIN_PROTOCOL, scriptedReader, until, testCard } from './pty.js';

/**
 * One contract for every CardReaderPort: the device-level simulation, the serial driver on the
 * byte-level simulated reader, and the serial driver on a real pty with a scripted reader.
 */
interface ReaderRig {
  port: CardReaderPort;
  status: DeviceStatusEvent[];
  /** a person pushes a readable card into the slot */
  insert(card: CardData): void;
  /** a card the reader cannot make sense of */
  insertGarbage(): void;
  /** cards given back / taken in, as the device saw it */
  ejected(): number;
  retained(): number;
  unplug(): Promise<void>;
  /** until `condition` holds, as fast as this rig's time allows */
  until(condition: () => boolean, what: string): Promise<void>;
  close(): Promise<void>;
}

const CARD = testCard();
const GARBAGE = '~~ not an MRZ ~~\r';

async function flush(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 50 && !condition(); i++) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error(`never happened: ${what}`);
}

async function deviceLevelRig(): Promise<ReaderRig> {
  const shredder = new SimulatedShredder();
  const reader = new SimulatedCardReader(shredder);
  const status: DeviceStatusEvent[] = [];
  reader.onStatus((e) => status.push(e));
  await reader.start();
  return {
    port: reader,
    status,
    insert: (card) => void reader.insert(card),
    insertGarbage: () => void reader.insert({ mrz: CARD }, { unreadable: true }),
    ejected: () => reader.ejected.length,
    retained: () => shredder.feed.length,
    unplug: async () => reader.unplug(),
    until: flush,
    close: () => reader.close(),
  };
}

async function simulatedSerialRig(): Promise<ReaderRig> {
  const device = new SimulatedMrzReaderDevice(PLAIN_PROTOCOL);
  const driver = new SerialMrzReader({ open: device.open, clock: new SimulatedClock(0), protocol: PLAIN_PROTOCOL });
  const status: DeviceStatusEvent[] = [];
  driver.onStatus((e) => status.push(e));
  await driver.start();
  return {
    port: driver,
    status,
    insert: (card) => void device.insert(card),
    insertGarbage: () => device.sendRaw(GARBAGE),
    ejected: () => device.ejected.length,
    retained: () => device.retained.length,
    unplug: async () => device.unplug(),
    until: flush,
    close: () => driver.close(),
  };
}

async function ptyRig(): Promise<ReaderRig> {
  const reader = await scriptedReader();
  const driver = new SerialMrzReader({ open: () => openSerialLine({ ...DEFAULT_SERIAL, path: reader.path }), clock: new SystemClock(), protocol: PLAIN_PROTOCOL, reconnectMs: 60_000 });
  const status: DeviceStatusEvent[] = [];
  driver.onStatus((e) => status.push(e));
  await driver.start();
  const count = (command: string) => reader.received().split('\r').filter((c) => c === command).length;
  return {
    port: driver,
    status,
    insert: (card) => reader.send(card.mrz.map((l) => `${l}\r`).join('')),
    insertGarbage: () => reader.send(GARBAGE),
    ejected: () => count('EJ'),
    retained: () => count('RT'),
    unplug: () => reader.unplug(),
    until: (condition, what) => until(condition, 20_000, what),
    close: async () => {
      await driver.close();
      await reader.close();
    },
  };
}

const rigs: Array<{ name: string; make: () => Promise<ReaderRig>; suite: (name: string) => Test }> = [
  { name: 'device-level simulation', make: deviceLevelRig, suite: (n) => suite(n) },
  { name: 'serial driver on the simulated reader', make: simulatedSerialRig, suite: (n) => suite(n) },
  { name: 'serial driver on a pty', make: ptyRig, suite: (n) => suiteNeeding(n, [SOCAT]) },
];

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'resolved';
}

for (const { name, make, suite: makeSuite } of rigs) {
  const contract = makeSuite(`card reader contract: ${name}`);
  const withRig = (title: string, body: (rig: ReaderRig, inserted: () => number) => Promise<void>) =>
    contract(title, async () => {
      const rig = await make();
      let inserted = 0;
      rig.port.onCardInserted(() => inserted++);
      try {
        await rig.port.setAccepting(true);
        await body(rig, () => inserted);
      } finally {
        await rig.close();
      }
    });

  withRig('a card in the open slot is announced once and read back line for line', async (rig, inserted) => {
    rig.insert({ mrz: CARD });
    await rig.until(() => inserted() === 1, 'card announced');
    assert.equal((await rig.port.read()).mrz, CARD);
    assert.is(inserted(), 1);
  });

  withRig('eject gives the card back; a read afterwards finds NO_CARD', async (rig, inserted) => {
    rig.insert({ mrz: CARD });
    await rig.until(() => inserted() === 1, 'card announced');
    await rig.port.read();
    await rig.port.eject();
    await rig.until(() => rig.ejected() === 1, 'card given back');
    assert.is(rig.retained(), 0);
    assert.is(await code(rig.port.read()), 'NO_CARD');
  });

  withRig('transfer takes the card inside; with no card there it is NO_CARD', async (rig, inserted) => {
    assert.is(await code(rig.port.transfer()), 'NO_CARD');
    rig.insert({ mrz: CARD });
    await rig.until(() => inserted() === 1, 'card announced');
    await rig.port.read();
    await rig.port.transfer();
    await rig.until(() => rig.retained() === 1, 'card taken in');
    assert.is(rig.ejected(), 0);
  });

  withRig('a card the reader cannot read is refused with CARD_UNREADABLE', async (rig, inserted) => {
    rig.insertGarbage();
    await rig.until(() => inserted() === 1, 'card announced');
    assert.is(await code(rig.port.read()), 'CARD_UNREADABLE');
  });

  withRig('unplugged: reported with READER_DISCONNECTED, and reading fails with READER_DISCONNECTED', async (rig, inserted) => {
    rig.insert({ mrz: CARD });
    await rig.until(() => inserted() === 1, 'card announced');
    await rig.unplug();
    await rig.until(() => rig.status.length === 1, 'status reported');
    assert.equal(rig.status, [{ device: 'reader', ok: false, code: 'READER_DISCONNECTED' }]);
    assert.is(await code(rig.port.read()), 'READER_DISCONNECTED');
  });

  contract.run();
}
