import { OPEN_CIRCUIT, type PinCircuit, type SimPinChip } from './device.js';

/**
 * PCF8574 / PCF8574A: one 8-bit quasi-bidirectional port. Power-on latch 0xFF. A latch 1 is a
 * weak pull-up that anything outside can pull low; a latch 0 sinks hard. Every byte written goes
 * to the latch; every byte read is the pin levels. There are no registers.
 */
export class SimPcf8574 implements SimPinChip {
  readonly pinCount = 8;
  private latch = 0xff;
  private circuit: PinCircuit = OPEN_CIRCUIT;
  private onDriveChange: () => void = () => {};

  constructor(readonly address: number) {}

  connect(circuit: PinCircuit, onDriveChange: () => void): void {
    this.circuit = circuit;
    this.onDriveChange = onDriveChange;
  }

  inputsChanged(): void {}

  write(bytes: readonly number[]): void {
    for (const byte of bytes) {
      const changed = byte !== this.latch;
      this.latch = byte & 0xff;
      if (changed) this.onDriveChange();
    }
  }

  read(count: number): number[] {
    return Array.from({ length: count }, () => this.levels());
  }

  /** Only a latch 0 is a strong drive; a latch 1 is the weak pull-up. */
  drive(pin: number): 0 | 1 | undefined {
    return (this.latch >> pin) & 1 ? undefined : 0;
  }

  private levels(): number {
    let levels = 0;
    for (let pin = 0; pin < 8; pin++) {
      const high = (this.latch >> pin) & 1 && !this.circuit.drivenLow(pin);
      if (high) levels |= 1 << pin;
    }
    return levels;
  }
}
