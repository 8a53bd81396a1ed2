import type { BoardKind } from '../layout.js';
import type { BoardPins, ExpanderChip } from './lock-board.js';
import type { I2cTransfers } from './port.js';

export interface Pcf8574Options {
  kind: Extract<BoardKind, 'pcf8574' | 'pcf8574a'>;
  address: number;
  pins: BoardPins;
}

/**
 * PCF8574 / PCF8574A lock board. The port is quasi-bidirectional: a 1 in the latch is a weak
 * pull-up (the pin can be read as an input), a 0 sinks current. Locks are therefore active-low
 * loads, and door pins (and unused pins) always get a 1. One byte write, one byte read.
 */
export class Pcf8574Chip implements ExpanderChip {
  readonly kind: Pcf8574Options['kind'];
  readonly address: number;
  private readonly locks: number;
  /** the port byte as last written; undefined after a failed write */
  private shadow: number | undefined;

  constructor(options: Pcf8574Options) {
    this.kind = options.kind;
    this.address = options.address;
    this.locks = options.pins.locks;
  }

  async configure(tx: I2cTransfers): Promise<void> {
    await this.writePort(tx, 0xff);
  }

  async writeLocks(tx: I2cTransfers, energised: number): Promise<void> {
    const port = 0xff & ~(energised & this.locks);
    if (port !== this.shadow) await this.writePort(tx, port);
  }

  async releaseAll(tx: I2cTransfers): Promise<void> {
    await this.writePort(tx, 0xff);
  }

  async readLevels(tx: I2cTransfers): Promise<number> {
    return tx.receiveByte(this.address);
  }

  private async writePort(tx: I2cTransfers, port: number): Promise<void> {
    this.shadow = undefined;
    await tx.sendByte(this.address, port);
    this.shadow = port;
  }
}
