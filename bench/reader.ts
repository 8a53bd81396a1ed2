/**
 * The serial MRZ reader's bytes-to-verdict latency: from the scripted reader writing a card's three
 * TD1 lines into a real pty (socat) to the driver's read resolving and the TD1 check (parse and
 * check digits) giving its verdict. Baseline, measured in the same run: the same driver on the
 * in-memory byte-level simulated reader, which is the driver's own cost without the kernel's tty
 * layer. A pty has no baud rate: the wire time of a real reader (93 bytes at 9600 8N1 ≈ 97 ms)
 * comes on top. Run: npx tsx bench/reader.ts, or through `npm run bench -- reader`.
 */
import { pathToFileURL } from 'node:url';
import { SystemClock } from '../actors/runtime/clock.js';
import { parseTd1 } from '../actors/domain/mrz.js';
import { SerialMrzReader } from '../drivers/serial/mrz-reader.js';
import { DEFAULT_SERIAL } from '../drivers/serial/port.js';
import { openSerialLine } from '../drivers/serial/serialport-adapter.js';
import { SimulatedMrzReaderDevice } from '../drivers/serial/sim/mrz-device.js';
import { hasProgram } from '../test/support/requires.js';
import { PLAIN_PROTOCOL, scriptedReader, testCard } from '../test/serial/pty.js';
import { median, nowMs, percentile, row, type BenchContext, type Row } from './lib.js';

const CARD = testCard();
const BYTES = CARD.map((l) => `${l}\r`).join('');

/** Times `reads` cards from `send` to a TD1 verdict; each card is ejected before the next. */
async function timeReads(driver: SerialMrzReader, send: () => void, reads: number): Promise<number[]> {
  const samples: number[] = [];
  let announced: (() => void) | null = null;
  driver.onCardInserted(() => announced?.());
  for (let i = 0; i < reads; i++) {
    const inserted = new Promise<void>((resolve) => (announced = resolve));
    const t0 = nowMs();
    send();
    await inserted;
    const card = await driver.read();
    if (parseTd1(card.mrz, Date.UTC(2026, 10, 23)).documentNumber !== 'L01X00T47') throw new Error('wrong verdict');
    samples.push(nowMs() - t0);
    await driver.eject();
  }
  return samples;
}

export interface ReaderMeasurement {
  pty: number[];
  memory: number[];
}

export async function measure(reads: number): Promise<ReaderMeasurement> {
  const device = new SimulatedMrzReaderDevice(PLAIN_PROTOCOL);
  const inMemory = new SerialMrzReader({ open: device.open, clock: new SystemClock(), protocol: PLAIN_PROTOCOL });
  await inMemory.start();
  await inMemory.setAccepting(true);
  const memory = await timeReads(inMemory, () => device.insert({ mrz: CARD }), reads);
  await inMemory.close();

  const reader = await scriptedReader();
  const overPty = new SerialMrzReader({ open: () => openSerialLine({ ...DEFAULT_SERIAL, path: reader.path }), clock: new SystemClock(), protocol: PLAIN_PROTOCOL });
  try {
    await overPty.start();
    const pty = await timeReads(overPty, () => reader.send(BYTES), reads);
    return { pty, memory };
  } finally {
    await overPty.close();
    await reader.close();
  }
}

export async function run(ctx: BenchContext): Promise<Row[]> {
  if (!hasProgram('socat')) {
    ctx.log('reader: socat is missing (apt-get install socat): no pty figures');
    return [];
  }
  const reads = ctx.quick ? 50 : 300;
  const m = await measure(reads);
  const B = `reader: serial MRZ, ${reads} reads`;
  const notes = 'pty via socat, real time; a real reader adds its wire time (93 bytes at 9600 8N1 ≈ 97 ms)';
  return [
    row(B, 'bytes-to-verdict latency p50', median(m.pty), 'ms', 'same driver, in-memory simulated reader, p50', median(m.memory), notes),
    row(B, 'bytes-to-verdict latency p99', percentile(m.pty, 99), 'ms', 'same driver, in-memory simulated reader, p99', percentile(m.memory, 99), 'includes the kernel tty layer and socat'),
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const m = await measure(300);
  const f = (v: number) => v.toFixed(3);
  console.log(`pty:    p50 ${f(median(m.pty))} ms, p99 ${f(percentile(m.pty, 99))} ms`);
  console.log(`memory: p50 ${f(median(m.memory))} ms, p99 ${f(percentile(m.memory, 99))} ms`);
  console.log(`ratio p50: ${(median(m.pty) / median(m.memory)).toFixed(1)}×`);
}
