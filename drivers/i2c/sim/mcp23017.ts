import { OPEN_CIRCUIT, type PinCircuit, type SimPinChip } from './device.js';

/** The 11 register pairs in datasheet order; index 2·pair + port is the BANK = 0 address. */
const PAIRS = ['IODIR', 'IPOL', 'GPINTEN', 'DEFVAL', 'INTCON', 'IOCON', 'GPPU', 'INTF', 'INTCAP', 'GPIO', 'OLAT'] as const;
type Pair = (typeof PAIRS)[number];
export type SimMcp23017Register = `${Exclude<Pair, 'IOCON'>}${'A' | 'B'}` | 'IOCON';

const IOCON_BANK = 0x80;
const IOCON_SEQOP = 0x20;
/** IOCON bit 0 is unimplemented and reads 0. */
const IOCON_WRITABLE = 0xfe;
/** GPA7 and GPB7 are output-only: as inputs they read 0. */
const OUTPUT_ONLY_BITS = 0x80;
const BANK0_LAST = 0x15;
const BANK1_LAST = 0x1a;

const pairOf = (name: Pair): number => PAIRS.indexOf(name);

/**
 * A register-accurate MCP23017 (datasheet DS20001952): the full register file at power-on
 * values, both address maps (IOCON.BANK = 0 interleaved, BANK = 1 split), the address pointer
 * in sequential mode (increments, rolls over to 0x00 after the last register) and byte mode
 * (BANK = 0: toggles inside the A/B pair; BANK = 1: stays), GPIO reads of pins vs the OLAT
 * latch, pull-ups, polarity inversion and interrupt-on-change with INTF/INTCAP latched until
 * GPIO or INTCAP of that port is read.
 */
export class SimMcp23017 implements SimPinChip {
  readonly pinCount = 16;
  /** indexed 2·pair + port; IOCON lives in both slots of its pair */
  private readonly regs = new Uint8Array(22);
  private pointer = 0;
  private readonly interruptPending = [false, false];
  /** pin levels at the last evaluation, per port, for compare-with-previous interrupts */
  private readonly lastLevels = [0, 0];
  private circuit: PinCircuit = OPEN_CIRCUIT;
  private onDriveChange: () => void = () => {};

  constructor(readonly address: number) {
    this.regs[2 * pairOf('IODIR')] = 0xff;
    this.regs[2 * pairOf('IODIR') + 1] = 0xff;
  }

  connect(circuit: PinCircuit, onDriveChange: () => void): void {
    this.circuit = circuit;
    this.onDriveChange = onDriveChange;
    this.lastLevels[0] = this.pinLevels(0);
    this.lastLevels[1] = this.pinLevels(1);
  }

  inputsChanged(): void {
    this.evaluateInterrupts();
  }

  write(bytes: readonly number[]): void {
    const [register, ...data] = bytes;
    if (register === undefined) return;
    this.pointer = register;
    for (const byte of data) {
      const slot = this.slotAt(this.pointer);
      if (slot !== undefined) this.writeSlot(slot, byte & 0xff);
      this.advancePointer();
    }
  }

  read(count: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const slot = this.slotAt(this.pointer);
      out.push(slot === undefined ? 0 : this.readSlot(slot));
      this.advancePointer();
    }
    return out;
  }

  drive(pin: number): 0 | 1 | undefined {
    const port = pin >> 3;
    const bit = 1 << (pin & 7);
    if (this.regs[2 * pairOf('IODIR') + port]! & bit) return undefined;
    return this.regs[2 * pairOf('OLAT') + port]! & bit ? 1 : 0;
  }

  /** A register's value without the side effects of a bus read, for tests. */
  peek(name: SimMcp23017Register): number {
    if (name === 'IOCON') return this.regs[2 * pairOf('IOCON')]!;
    const pair = pairOf(name.slice(0, -1) as Pair);
    const port = name.endsWith('A') ? 0 : 1;
    return pair === pairOf('GPIO') ? this.gpio(port) : this.regs[2 * pair + port]!;
  }

  /** True while an interrupt of the port (0 = A, 1 = B) waits to be cleared (the INTx pin is active). */
  interruptActive(port: 0 | 1): boolean {
    return this.interruptPending[port]!;
  }

  private get iocon(): number {
    return this.regs[2 * pairOf('IOCON')]!;
  }

  /** The register slot at an address in the current map, or undefined for unimplemented addresses. */
  private slotAt(address: number): number | undefined {
    if (!(this.iocon & IOCON_BANK)) return address <= BANK0_LAST ? address : undefined;
    if (address <= 0x0a) return 2 * address;
    if (address >= 0x10 && address <= BANK1_LAST) return 2 * (address - 0x10) + 1;
    return undefined;
  }

  private advancePointer(): void {
    const bank1 = (this.iocon & IOCON_BANK) !== 0;
    if (this.iocon & IOCON_SEQOP) {
      if (!bank1) this.pointer ^= 1;
      return;
    }
    this.pointer = this.pointer >= (bank1 ? BANK1_LAST : BANK0_LAST) ? 0 : this.pointer + 1;
  }

  private writeSlot(slot: number, byte: number): void {
    const pair = PAIRS[slot >> 1]!;
    const port = slot & 1;
    switch (pair) {
      case 'INTF':
      case 'INTCAP':
        return; // read-only
      case 'IOCON':
        this.regs[2 * pairOf('IOCON')] = this.regs[2 * pairOf('IOCON') + 1] = byte & IOCON_WRITABLE;
        return;
      case 'GPIO':
      case 'OLAT':
        this.regs[2 * pairOf('OLAT') + port] = byte;
        this.onDriveChange();
        this.evaluateInterrupts();
        return;
      default:
        this.regs[slot] = byte;
        if (pair === 'IODIR') this.onDriveChange();
        this.evaluateInterrupts();
    }
  }

  private readSlot(slot: number): number {
    const pair = PAIRS[slot >> 1]!;
    const port = slot & 1;
    if (pair === 'GPIO' || pair === 'INTCAP') {
      const value = pair === 'GPIO' ? this.gpio(port) : this.regs[slot]!;
      this.clearInterrupt(port);
      return value;
    }
    return this.regs[slot]!;
  }

  /** Levels on the pins of a port: outputs follow OLAT; inputs are pulled low, pulled up or float (read 0). */
  private pinLevels(port: number): number {
    const iodir = this.regs[2 * pairOf('IODIR') + port]!;
    const olat = this.regs[2 * pairOf('OLAT') + port]!;
    const pullUps = this.regs[2 * pairOf('GPPU') + port]!;
    let levels = 0;
    for (let bit = 0; bit < 8; bit++) {
      const mask = 1 << bit;
      let high: boolean;
      if (!(iodir & mask)) high = (olat & mask) !== 0;
      else if (mask === OUTPUT_ONLY_BITS) high = false;
      else high = !this.circuit.drivenLow(port * 8 + bit) && (pullUps & mask) !== 0;
      if (high) levels |= mask;
    }
    return levels;
  }

  /** GPIO as read: pin levels, inverted by IPOL on input pins. */
  private gpio(port: number): number {
    const inputs = this.regs[2 * pairOf('IODIR') + port]!;
    return this.pinLevels(port) ^ (this.regs[2 * pairOf('IPOL') + port]! & inputs);
  }

  /**
   * Interrupt-on-change: an enabled input pin that differs from DEFVAL (INTCON = 1) or from its
   * previous level (INTCON = 0) sets INTF and captures GPIO into INTCAP — only if no interrupt of
   * that port is pending; later changes are lost until GPIO or INTCAP is read.
   */
  private evaluateInterrupts(): void {
    for (const port of [0, 1] as const) {
      const levels = this.pinLevels(port);
      if (!this.interruptPending[port]) {
        const intcon = this.regs[2 * pairOf('INTCON') + port]!;
        const reference = (this.regs[2 * pairOf('DEFVAL') + port]! & intcon) | (this.lastLevels[port]! & ~intcon);
        const enabled = this.regs[2 * pairOf('GPINTEN') + port]! & this.regs[2 * pairOf('IODIR') + port]!;
        const flagged = enabled & (levels ^ reference) & 0xff;
        if (flagged) {
          this.regs[2 * pairOf('INTF') + port] = flagged;
          this.regs[2 * pairOf('INTCAP') + port] = this.gpio(port);
          this.interruptPending[port] = true;
        }
      }
      this.lastLevels[port] = levels;
    }
  }

  /** Reading GPIO or INTCAP clears INTF; INTCAP keeps its value until the next capture. A DEFVAL mismatch that persists fires again. */
  private clearInterrupt(port: number): void {
    if (!this.interruptPending[port]) return;
    this.interruptPending[port] = false;
    this.regs[2 * pairOf('INTF') + port] = 0;
    this.evaluateInterrupts();
  }
}
