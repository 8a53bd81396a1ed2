/**
 * The narrow I2C port every lock-board driver talks through. The i2c-bus adapter and the
 * simulated bus implement it; nothing else in the box knows how bytes reach a chip.
 *
 * Register-style calls (`readByte`, `writeI2cBlock`, …) are SMBus transfers: START, address,
 * register, data, STOP — reads add a repeated START. Words are little-endian (SMBus order).
 * Failures reject with a DriverError: I2C_NACK, I2C_TIMEOUT, BOARD_MISSING (no ACK on the address).
 */
export interface I2cPort {
  readByte(address: number, register: number): Promise<number>;
  writeByte(address: number, register: number, byte: number): Promise<void>;
  readWord(address: number, register: number): Promise<number>;
  writeWord(address: number, register: number, word: number): Promise<void>;
  /** Reads `length` bytes starting at `register` into `buffer`; resolves to the count read. */
  readI2cBlock(address: number, register: number, length: number, buffer: Buffer): Promise<number>;
  /** Writes the first `length` bytes of `buffer` starting at `register`; resolves to the count written. */
  writeI2cBlock(address: number, register: number, length: number, buffer: Buffer): Promise<number>;
  /** A bare one-byte read without a register (PCF8574 port read). */
  receiveByte(address: number): Promise<number>;
  /** A bare one-byte write without a register (PCF8574 port write). */
  sendByte(address: number, byte: number): Promise<void>;
  /** Addresses that acknowledge. */
  scan(): Promise<number[]>;
  close(): Promise<void>;
}

/** What a transaction may do: transfers only; opening, scanning and closing belong to the owner. */
export type I2cTransfers = Omit<I2cPort, 'scan' | 'close'>;

/** Stable codes of bus-level failures; a board may recover from any of them. */
export const BUS_FAULT_CODES: ReadonlySet<string> = new Set(['I2C_NACK', 'I2C_TIMEOUT', 'BOARD_MISSING']);

/**
 * Pins of the layout's boards that devices use (shredder, room door, headphone jack), by board
 * id and pin number. Outputs are `active` when energised, whatever the chip's polarity; inputs
 * read `true` when high (switches close to ground, so a closed switch reads false).
 */
export interface GpioPort {
  set(pin: { board: string; pin: number }, active: boolean): Promise<void>;
  /** Reads the pins now: one transfer per board involved. */
  read(pins: ReadonlyArray<{ board: string; pin: number }>): Promise<boolean[]>;
  /** The level seen by the board's last door poll (no bus traffic); undefined before the first. */
  polled(pin: { board: string; pin: number }): boolean | undefined;
  /** After each poll of a board. Returns an unsubscribe. */
  onPoll(listener: (board: string) => void): () => void;
}
