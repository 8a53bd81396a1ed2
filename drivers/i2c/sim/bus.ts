import type { Clock } from '../../../actors/runtime/clock.js';
import { DriverError } from '../../ports.js';
import type { I2cPort } from '../port.js';
import type { SimI2cDevice } from './device.js';
import { ADDRESS_NACK_CLOCKS, clocksToMicros, transferClocks } from './timing.js';

/** One I2C transfer (START … STOP) as the bus saw it. */
export interface BusTransfer {
  /** bus time at the START, µs since the clock's epoch; transfers queue behind each other */
  startUs: number;
  address: number;
  op: 'read' | 'write';
  /** the register byte, or null for a bare sendByte/receiveByte */
  register: number | null;
  /** data written or read (the register byte excluded) */
  bytes: number[];
  clocks: number;
  /** the stable code when the transfer failed */
  fault?: string;
}

/** A transcript line as driver tests compare it: [op, address, register, data]. */
export type TranscriptLine = ['r' | 'w', number, number | null, number[]];

export type InjectedFault = 'I2C_NACK' | 'I2C_TIMEOUT';

export interface SimulatedBusOptions {
  busNumber?: number;
  /** SCL frequency; the bus-time model counts clocks at this rate */
  kHz?: number;
  /** bus time a timed-out transfer costs (the adapter's timeout) */
  timeoutMs?: number;
}

/**
 * A simulated I2C bus implementing the port: routes transfers to attached simulated devices,
 * keeps a transcript of every transfer with its start time and clock count, adds up bus time at
 * the configured SCL rate, and injects faults. An address nobody answers is BOARD_MISSING.
 */
export class SimulatedI2cBus implements I2cPort {
  readonly busNumber: number;
  readonly kHz: number;
  private readonly timeoutMs: number;
  private readonly devices = new Map<number, SimI2cDevice>();
  private readonly faults = new Map<number, { code: InjectedFault; remaining: number }>();
  private transfers: BusTransfer[] = [];
  private freeAtUs = 0;
  private busyUs = 0;

  constructor(
    private readonly clock: Clock,
    options: SimulatedBusOptions = {},
  ) {
    this.busNumber = options.busNumber ?? 1;
    this.kHz = options.kHz ?? 100;
    this.timeoutMs = options.timeoutMs ?? 25;
  }

  attach(device: SimI2cDevice): void {
    if (this.devices.has(device.address)) throw new Error(`bus ${this.busNumber}: address 0x${device.address.toString(16)} is taken`);
    this.devices.set(device.address, device);
  }

  /** Unplugs the device at `address`: it no longer acknowledges. */
  detach(address: number): void {
    this.devices.delete(address);
  }

  /** The next `times` transfers to `address` fail with `code` (Infinity: until cleared). */
  injectFault(address: number, code: InjectedFault, times = Infinity): void {
    this.faults.set(address, { code, remaining: times });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  get transcript(): readonly BusTransfer[] {
    return this.transfers;
  }

  /** The transcript as [op, address, register, data] lines. */
  lines(): TranscriptLine[] {
    return this.transfers.map((t) => [t.op === 'read' ? 'r' : 'w', t.address, t.register, t.bytes]);
  }

  /** Total time the bus was busy, µs. */
  get busTimeUs(): number {
    return this.busyUs;
  }

  /** Forgets the transcript and the bus-time total. */
  resetTranscript(): void {
    this.transfers = [];
    this.busyUs = 0;
  }

  async readByte(address: number, register: number): Promise<number> {
    return this.transfer(address, register, [], 1)[0]!;
  }

  async writeByte(address: number, register: number, byte: number): Promise<void> {
    this.transfer(address, register, [byte & 0xff], 0);
  }

  async readWord(address: number, register: number): Promise<number> {
    const [low, high] = this.transfer(address, register, [], 2);
    return low! | (high! << 8);
  }

  async writeWord(address: number, register: number, word: number): Promise<void> {
    this.transfer(address, register, [word & 0xff, (word >> 8) & 0xff], 0);
  }

  async readI2cBlock(address: number, register: number, length: number, buffer: Buffer): Promise<number> {
    const data = this.transfer(address, register, [], length);
    data.forEach((byte, i) => (buffer[i] = byte));
    return data.length;
  }

  async writeI2cBlock(address: number, register: number, length: number, buffer: Buffer): Promise<number> {
    this.transfer(address, register, [...buffer.subarray(0, length)], 0);
    return length;
  }

  async receiveByte(address: number): Promise<number> {
    return this.transfer(address, null, [], 1)[0]!;
  }

  async sendByte(address: number, byte: number): Promise<void> {
    this.transfer(address, null, [byte & 0xff], 0);
  }

  /** Probes every 7-bit address (a START, the address, a STOP each), as i2cdetect does. */
  async scan(): Promise<number[]> {
    this.occupy(0x78 - 0x03, ADDRESS_NACK_CLOCKS);
    return [...this.devices.keys()].sort((a, b) => a - b);
  }

  async close(): Promise<void> {}

  /**
   * One transfer: the write phase (register byte, if any, then data) followed, for reads, by a
   * repeated START and the read phase. Faults abort before the device sees anything.
   */
  private transfer(address: number, register: number | null, data: number[], readCount: number): number[] {
    const written = (register === null ? 0 : 1) + data.length;
    const op = readCount > 0 ? 'read' : 'write';
    const device = this.devices.get(address);
    const fault = this.takeFault(address);
    const failure = !device ? 'BOARD_MISSING' : fault;
    const clocks = failure === 'BOARD_MISSING' ? ADDRESS_NACK_CLOCKS : transferClocks({ written, read: readCount });
    const startUs = this.occupy(1, clocks, failure === 'I2C_TIMEOUT' ? this.timeoutMs * 1000 : undefined);
    const record: BusTransfer = { startUs, address, op, register, bytes: op === 'write' ? data : [], clocks };
    this.transfers.push(record);
    const where = `bus ${this.busNumber}, address 0x${address.toString(16)}`;
    if (failure) {
      record.fault = failure;
      const what = { BOARD_MISSING: 'no device acknowledges', I2C_NACK: 'the device did not acknowledge', I2C_TIMEOUT: 'the transfer timed out' }[failure];
      throw new DriverError(failure, `${what} (${where})`);
    }
    if (written > 0) device!.write(register === null ? data : [register, ...data]);
    if (readCount === 0) return [];
    const read = device!.read(readCount).map((b) => b & 0xff);
    record.bytes = read;
    return read;
  }

  private takeFault(address: number): InjectedFault | undefined {
    const fault = this.faults.get(address);
    if (!fault) return undefined;
    if (--fault.remaining <= 0) this.faults.delete(address);
    return fault.code;
  }

  /** Books `count` transfers of `clocks` each (or a fixed duration) on the bus; returns the start, µs. */
  private occupy(count: number, clocks: number, durationUs?: number): number {
    const startUs = Math.max(this.clock.now() * 1000, this.freeAtUs);
    const us = durationUs ?? count * clocksToMicros(clocks, this.kHz);
    this.freeAtUs = startUs + us;
    this.busyUs += us;
    return startUs;
  }
}
