import { CHIP_SPECS } from '../layout.js';
import type { BoardPins, ExpanderChip } from './lock-board.js';
import type { I2cTransfers } from './port.js';

/**
 * The MCP23017 registers the driver addresses, with IOCON.BANK = 0 (A/B pairs interleaved, so
 * IODIRA 0x00 … GPPUB 0x0D is one sequential block and each A register is followed by its B twin).
 */
export const MCP23017_REGISTER = {
  IODIRA: 0x00,
  IOCON: 0x0a,
  INTFA: 0x0e,
  GPIOA: 0x12,
  OLATA: 0x14,
  OLATB: 0x15,
} as const;

/** Where IOCON sits when the chip was left with IOCON.BANK = 1 (in BANK = 0 this is GPINTENB). */
export const MCP23017_IOCON_IN_BANK1 = 0x05;

/** BANK = 0, MIRROR = 0, SEQOP = 0 (sequential mode: the address pointer increments), push-pull INT, active-low. */
export const MCP23017_IOCON_VALUE = 0x00;

export interface Mcp23017Options {
  address: number;
  pins: BoardPins;
  /** arm interrupt-on-change (compare with the previous level) on the door pins */
  interruptOnChange?: boolean;
}

/**
 * MCP23017 lock board: locks on outputs, active-high (the pin drives a transistor), doors on
 * inputs with pull-ups. GPA7/GPB7 are always outputs (held low): they are output-only on the chip.
 * Unused pins are inputs with pull-ups, so nothing floats and nothing is driven by accident.
 */
export class Mcp23017Chip implements ExpanderChip {
  readonly kind = 'mcp23017' as const;
  readonly address: number;
  private readonly pins: BoardPins;
  private readonly interruptOnChange: boolean;
  /** OLATA | OLATB << 8 as last written; undefined after a failed write (the chip's latch is then unknown) */
  private shadow: number | undefined;

  constructor(options: Mcp23017Options) {
    this.address = options.address;
    this.pins = options.pins;
    this.interruptOnChange = options.interruptOnChange ?? false;
  }

  async configure(tx: I2cTransfers): Promise<void> {
    const R = MCP23017_REGISTER;
    const outputOnly = CHIP_SPECS.mcp23017.outputOnlyPins.reduce((m, pin) => m | (1 << pin), 0);
    const inputs = ~(this.pins.locks | outputOnly) & 0xffff;
    const interrupts = this.interruptOnChange ? this.pins.doors : 0;
    // A chip left in BANK = 1 has IOCON at 0x05; writing 0 there returns it to BANK = 0. In BANK = 0
    // the same write only clears GPINTENB, which the block write below sets again.
    await tx.writeByte(this.address, MCP23017_IOCON_IN_BANK1, MCP23017_IOCON_VALUE);
    await tx.writeByte(this.address, R.IOCON, MCP23017_IOCON_VALUE);
    // Latch released before any pin becomes an output, so no lock twitches during start-up.
    await this.writeOutputs(tx, 0, 0b11);
    // IODIRA … GPPUB in one sequential write: direction, no inversion, interrupts, IOCON again, pull-ups.
    const config = [
      lo(inputs), hi(inputs), 0, 0, lo(interrupts), hi(interrupts), 0, 0, 0, 0,
      MCP23017_IOCON_VALUE, MCP23017_IOCON_VALUE, lo(inputs), hi(inputs),
    ];
    await tx.writeI2cBlock(this.address, R.IODIRA, config.length, Buffer.from(config));
  }

  async writeLocks(tx: I2cTransfers, energised: number): Promise<void> {
    const next = energised & this.pins.locks;
    const changed = this.shadow === undefined ? 0xffff : next ^ this.shadow;
    const ports = (changed & 0xff ? 0b01 : 0) | (changed & 0xff00 ? 0b10 : 0);
    if (ports) await this.writeOutputs(tx, next, ports);
  }

  async releaseAll(tx: I2cTransfers): Promise<void> {
    await this.writeOutputs(tx, 0, 0b11);
  }

  async readLevels(tx: I2cTransfers): Promise<number> {
    const buf = Buffer.alloc(2);
    await tx.readI2cBlock(this.address, MCP23017_REGISTER.GPIOA, 2, buf);
    return buf[0]! | (buf[1]! << 8);
  }

  /**
   * Reads INTFA, INTFB, INTCAPA, INTCAPB in one sequential read: which pins raised the interrupt
   * and the port levels captured at that moment. Reading INTCAP clears the interrupt.
   */
  async readInterrupt(tx: I2cTransfers): Promise<{ flagged: number; captured: number }> {
    const buf = Buffer.alloc(4);
    await tx.readI2cBlock(this.address, MCP23017_REGISTER.INTFA, 4, buf);
    return { flagged: buf[0]! | (buf[1]! << 8), captured: buf[2]! | (buf[3]! << 8) };
  }

  /** Writes OLATA and/or OLATB (ports bit 0 = A, bit 1 = B) as whole bytes; both in one sequential write. */
  private async writeOutputs(tx: I2cTransfers, latch: number, ports: number): Promise<void> {
    const R = MCP23017_REGISTER;
    const current = this.shadow ?? 0;
    this.shadow = undefined;
    if (ports === 0b11) await tx.writeI2cBlock(this.address, R.OLATA, 2, Buffer.from([lo(latch), hi(latch)]));
    else if (ports === 0b01) await tx.writeByte(this.address, R.OLATA, lo(latch));
    else await tx.writeByte(this.address, R.OLATB, hi(latch));
    const kept = ports === 0b01 ? current & 0xff00 : ports === 0b10 ? current & 0xff : 0;
    const written = ports === 0b01 ? latch & 0xff : ports === 0b10 ? latch & 0xff00 : latch;
    this.shadow = kept | written;
  }
}

const lo = (word: number): number => word & 0xff;
const hi = (word: number): number => (word >> 8) & 0xff;
