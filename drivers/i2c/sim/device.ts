/**
 * A simulated I2C slave: the bus hands it the raw phases of a transfer. A write phase carries
 * the bytes after the address byte (for register chips the first one is the register address);
 * a read phase asks for `count` bytes.
 */
export interface SimI2cDevice {
  readonly address: number;
  write(bytes: readonly number[]): void;
  read(count: number): number[];
}

/**
 * What the outside circuit does to a chip's pins. `drivenLow(pin)` is true while something
 * (a closed door switch) pulls the pin to ground; otherwise the pin floats or follows a pull-up.
 */
export interface PinCircuit {
  drivenLow(pin: number): boolean;
}

/** A chip whose pins the simulated world is wired to. */
export interface SimPinChip extends SimI2cDevice {
  readonly pinCount: number;
  /** The chip's strong drive on `pin`: 0 or 1, or undefined when it does not drive it. */
  drive(pin: number): 0 | 1 | undefined;
  /** Wires the chip to the world; `onDriveChange` runs after any change of the chip's drive. */
  connect(circuit: PinCircuit, onDriveChange: () => void): void;
  /** The outside circuit changed (a door moved): inputs are sampled anew. */
  inputsChanged(): void;
}

/** Nothing connected: no pin is pulled low. */
export const OPEN_CIRCUIT: PinCircuit = { drivenLow: () => false };
